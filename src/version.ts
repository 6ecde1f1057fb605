/**
 * The package version, kept equal to package.json's by a test.
 *
 * @since 0.1.0
 */
export const version = "0.1.0"
