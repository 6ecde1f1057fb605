/**
 * `weir/testing`: the kit for testing failure behaviour deterministically under `TestClock`.
 *
 * @since 0.1.0
 */
export {}
