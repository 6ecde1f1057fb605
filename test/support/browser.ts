/**
 * Headless Chromium for the admin page tests: Debian's `chromium` driven by `playwright-core`, with
 * background networking off, so the browser talks only to the servers a test starts on 127.0.0.1.
 * Tests skip themselves when `executablePath` is absent (`.ci/run` installs it). Screenshots go to
 * `.weir-tmp/screenshots/` (git-ignored).
 */
import * as Effect from "effect/Effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"

export const executablePath = "/usr/bin/chromium"

export const screenshots = join(process.cwd(), ".weir-tmp", "screenshots")

/** A screenshot file's path under `screenshots` (the folder is made first). */
export const screenshotPath = (name: string): string => {
  mkdirSync(screenshots, { recursive: true })
  return join(screenshots, name)
}

/** A headless browser, closed with the scope. */
export const browser = Effect.acquireRelease(
  Effect.promise(() =>
    chromium.launch({
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run"
      ]
    })
  ),
  (b: Browser) => Effect.promise(() => b.close())
)

/** A page of `b`, 1200×900, closed with the scope. */
export const page = (b: Browser) =>
  Effect.acquireRelease(
    Effect.promise(() => b.newPage({ viewport: { width: 1200, height: 900 } })),
    (p: Page) => Effect.promise(() => p.close())
  )

export const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
