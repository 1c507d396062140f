/**
 * The one shape of a construct's validation error: which construct, which prop, the value
 * it got and what it accepts. Tests match these messages exactly.
 */
export function invalidProp(construct: string, prop: string, value: unknown, expected: string): Error {
  return new Error(`${construct}: props.${prop} = ${JSON.stringify(value)}; expected ${expected}`);
}

/** A Route 53 hosted zone id as the API takes it (no `/hostedzone/` prefix). */
export const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
export const HOSTED_ZONE_ID_EXPECTED = 'a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits';
