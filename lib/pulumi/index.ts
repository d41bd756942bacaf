/** xmpp-constructs/pulumi: the Pulumi ComponentResources (issue 5; not yet implemented). */
export {};
