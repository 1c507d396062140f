/** ASG `tag` blocks; `propagate` copies them onto the instances the group launches. */
export function asgTags(tags: Readonly<Record<string, string>>, propagate: boolean): { key: string; value: string; propagateAtLaunch: boolean }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: propagate }));
}
