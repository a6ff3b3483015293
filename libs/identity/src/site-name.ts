/** Site names: lower-case letters, digits and hyphens, 2 to 63 characters, starting with a letter. */
export const SITE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

/** Throws a RangeError naming the problem when `name` is not a valid site name. */
export function assertSiteName(name: string, what = 'site name'): void {
  if (!SITE_NAME_PATTERN.test(name)) {
    throw new RangeError(
      `${what} '${name}' is invalid: use 2 to 63 lower-case letters, digits or hyphens, starting with a letter`,
    );
  }
}
