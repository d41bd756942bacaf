import { IResolvable, IResolveContext } from 'cdktf';

/**
 * `value`, plain JSON data holding no token, handed to cdktf as already resolved.
 *
 * cdktf resolves a stack's JSON node by node, three times over (preparing the stack, each element,
 * then the whole document), which for a thousand domains' DNS records (eleven thousand objects of
 * eleven fields) took about half the synthesis. A token's post-processor result is not resolved
 * again, so this token yields a second one when its element is resolved, which the stack keeps
 * as it is, and that one yields `value` when the whole document is resolved: the data is never
 * walked. Should a stack resolve only once, the second token still serializes as `value`.
 */
export function preResolved(value: unknown): IResolvable {
  return new PostProcessed(() => new PostProcessed(() => value, value));
}

class PostProcessed implements IResolvable {
  public readonly creationStack: string[] = [];

  constructor(
    private readonly produce: () => unknown,
    private readonly json?: unknown,
  ) {}

  public resolve(context: IResolveContext): unknown {
    context.registerPostProcessor({ postProcess: () => this.produce() });
    return null;
  }

  public toString(): string {
    return '<pre-resolved data>';
  }

  public toJSON(): unknown {
    return this.json;
  }
}
