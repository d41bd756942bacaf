# `tofu show -json plan.bin | jq -f redact-plan.jq`: the plan JSON without its secrets, for the
# workflow's jobs that hold no credentials (the summary and the pull-request comment).
#
# `show -json` prints sensitive values in clear text, only marking them in before_sensitive and
# after_sensitive, and it adds the input variables, the prior state and every planned value. This
# keeps only what plan-summary.ts reads (resource_changes, resource_drift, deferred_changes, the
# output names, errored, complete) and, in each change, replaces every top-level attribute that is
# sensitive anywhere inside with "(sensitive)", or "(sensitive, changed)" in `after` when its value
# changes, so the summary still sees which attributes change but never what they hold.

# True when a sensitivity mark (true, or an object or array holding a true somewhere) marks anything.
def marked:
  if type == "boolean" then .
  elif type == "object" or type == "array" then any(.[]; marked)
  else false end;

# Whether attribute $key is marked in $marks (a whole-value `true` marks every attribute).
def marked_at($marks; $key):
  if ($marks | type) == "object" then ($marks[$key] // false) | marked
  else $marks | marked end;

def redact_change:
  if type != "object" then . else
    (.before_sensitive // false) as $before_marks
    | (.after_sensitive // false) as $after_marks
    | .before as $before
    | .after as $after
    | ([($before | objects | keys[]), ($after | objects | keys[])] | unique) as $keys
    | reduce ($keys[] | select(marked_at($before_marks; .) or marked_at($after_marks; .))) as $key (.;
        (if ($before | type) == "object" and ($before | has($key)) then .before[$key] = "(sensitive)" else . end)
        | (if ($after | type) == "object" and ($after | has($key)) then
            .after[$key] = (if ($before | type) == "object" and ($before | has($key)) and $before[$key] == $after[$key]
              then "(sensitive)" else "(sensitive, changed)" end)
          else . end))
    | (if $before != null and ($before | type) != "object" and ($before_marks | marked) then .before = "(sensitive)" else . end)
    | (if $after != null and ($after | type) != "object" and ($after_marks | marked) then .after = "(sensitive)" else . end)
    # The configuration OpenTofu would generate for an import: literal values, sensitive ones included.
    | del(.generated_config)
  end;

def redact_resource_change:
  if type == "object" and (.change | type) == "object" then .change |= redact_change else . end;

def each(f): if type == "array" then map(f) else . end;

. as $plan
| ({format_version, terraform_version, applyable, complete, errored, timestamp} | with_entries(select(.value != null)))
+ (if $plan | has("resource_changes") then {resource_changes: ($plan.resource_changes | each(redact_resource_change))} else {} end)
+ (if $plan | has("resource_drift") then {resource_drift: ($plan.resource_drift | each(redact_resource_change))} else {} end)
+ (if $plan | has("deferred_changes") then
    {deferred_changes: ($plan.deferred_changes
      | each(if type == "object" and has("resource_change") then .resource_change |= redact_resource_change else . end))}
  else {} end)
# Output values can be secrets too: only their names and actions remain. One exception: the hash of
# the configuration bundle (`<service>_config_bundle`, a SHA-256 of files that hold no secret), kept
# when it is exactly that and unmarked, so the summary can name the bundle to wait for.
+ (if ($plan.output_changes | type) == "object" then
    {output_changes: ($plan.output_changes | to_entries | map(.key as $name | .value |= (
      if type != "object" then {}
      elif ($name | endswith("_config_bundle")) and ((.after_sensitive // false) | marked | not)
        and ((.after | type) == "string") and (.after | test("^[0-9a-f]{64}$"))
      then {actions, after}
      else {actions} end)) | from_entries)}
  else {} end)
