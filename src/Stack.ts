/**
 * A `Stack` is an ordered list of modules, top (nearest the caller) first, each addressed by its
 * role. Building it folds from the bottom: each module receives the service built below it and
 * returns the service it exposes. Modules read their parameters from `Context.Reference`s with
 * defaults when they are built, so a caller configures a stack by providing those references
 * around `Stack.build`, and replaces or removes whole modules by role. This is Finagle's
 * `Stack`/`Stack.Param` over Effect.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Filter from "./Filter.js"
import type { Service } from "./Service.js"

/**
 * One position in a stack.
 *
 * @since 0.1.0
 * @category model
 */
export interface Module<Req, Rep, E, R> {
  /** The slot this module fills; unique within a stack. */
  readonly role: string
  /** Why the module exists and why it sits where it does. */
  readonly description: string
  /** Builds this layer of the service around `next`, in the scope of the whole stack. */
  readonly make: (next: Service<Req, Rep, E, R>) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope>
}

/**
 * An ordered list of modules, top first.
 *
 * @since 0.1.0
 * @category model
 */
export interface Stack<Req, Rep, E, R> {
  readonly modules: ReadonlyArray<Module<Req, Rep, E, R>>
}

/**
 * A stack from modules, top first. Roles must be unique.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(...modules: ReadonlyArray<Module<Req, Rep, E, R>>): Stack<Req, Rep, E, R> => {
  const seen = new Set<string>()
  for (const m of modules) {
    if (seen.has(m.role)) throw new Error(`Stack: role "${m.role}" appears twice`)
    seen.add(m.role)
  }
  return { modules }
}

/**
 * A module from a function that builds the wrapped service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const module = <Req, Rep, E, R>(
  role: string,
  description: string,
  make: (next: Service<Req, Rep, E, R>) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope>
): Module<Req, Rep, E, R> => ({ role, description, make })

/**
 * A module from an effect that builds a filter (one filter instance, with its state, per build).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFilter = <Req, Rep, E, R>(
  role: string,
  description: string,
  filter: Effect.Effect<Filter.Filter<Req, Rep, E, R>, never, Scope.Scope>
): Module<Req, Rep, E, R> => module(role, description, (next) => Effect.map(filter, (f) => Filter.toService(f, next)))

/**
 * The roles of a stack, top first.
 *
 * @since 0.1.0
 * @category getters
 */
export const roles = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>): Array<string> => self.modules.map((m) => m.role)

/**
 * Whether a stack has a module in `role`.
 *
 * @since 0.1.0
 * @category getters
 */
export const contains = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, role: string): boolean =>
  self.modules.some((m) => m.role === role)

const indexOf = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, role: string): number => {
  const i = self.modules.findIndex((m) => m.role === role)
  if (i < 0) throw new Error(`Stack: no module with role "${role}" (roles: ${roles(self).join(", ")})`)
  return i
}

const splice = <Req, Rep, E, R>(
  self: Stack<Req, Rep, E, R>,
  start: number,
  deleteCount: number,
  ...items: Array<Module<Req, Rep, E, R>>
): Stack<Req, Rep, E, R> => {
  const modules = self.modules.slice()
  modules.splice(start, deleteCount, ...items)
  return make(...modules)
}

/**
 * Adds a module on top (nearest the caller).
 *
 * @since 0.1.0
 * @category combinators
 */
export const prepend = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, m: Module<Req, Rep, E, R>) => splice(self, 0, 0, m)

/**
 * Adds a module at the bottom (nearest the endpoint).
 *
 * @since 0.1.0
 * @category combinators
 */
export const append = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, m: Module<Req, Rep, E, R>) =>
  splice(self, self.modules.length, 0, m)

/**
 * Inserts a module just above the one in `role`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const insertBefore = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, role: string, m: Module<Req, Rep, E, R>) =>
  splice(self, indexOf(self, role), 0, m)

/**
 * Inserts a module just below the one in `role`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const insertAfter = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, role: string, m: Module<Req, Rep, E, R>) =>
  splice(self, indexOf(self, role) + 1, 0, m)

/**
 * Replaces the module in `role` (the new one may have another role).
 *
 * @since 0.1.0
 * @category combinators
 */
export const replace = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, role: string, m: Module<Req, Rep, E, R>) =>
  splice(self, indexOf(self, role), 1, m)

/**
 * Removes the module in `role`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const remove = <Req, Rep, E, R>(self: Stack<Req, Rep, E, R>, role: string) =>
  splice(self, indexOf(self, role), 1)

/**
 * Builds the stack on top of `leaf`, bottom module first. Every module's resources live in the
 * surrounding scope.
 *
 * @since 0.1.0
 * @category building
 */
export const build = <Req, Rep, E, R>(
  self: Stack<Req, Rep, E, R>,
  leaf: Service<Req, Rep, E, R>
): Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope> =>
  Effect.suspend(() => {
    let acc: Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope> = Effect.succeed(leaf)
    for (let i = self.modules.length - 1; i >= 0; i--) {
      const m = self.modules[i]!
      acc = Effect.flatMap(acc, (next) => m.make(next))
    }
    return acc
  })
