/**
 * The one shape of a construct's validation error: which construct, which prop, the value
 * it got and what it accepts. Tests match these messages exactly.
 */
export function invalidProp(construct: string, prop: string, value: unknown, expected: string): Error {
  return new Error(`${construct}: props.${prop} = ${JSON.stringify(value)}; expected ${expected}`);
}
