/** The process environment as the CLI, client and router read it: never mutated, values may be absent. */
export type Env = Readonly<Record<string, string | undefined>>;
