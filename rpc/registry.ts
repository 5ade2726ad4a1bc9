/** Which handler serves which wire endpoint name (`contract/endpoint`). */
import { wireEndpointName } from './contract.js';
import type { AnyEndpointDef, Contract, Implementation } from './contract.js';

export interface RegisteredEndpoint {
  readonly wireName: string;
  readonly def: AnyEndpointDef;
  /** The implementation's function, called with `this` = the implementation object. */
  readonly handler: (...args: unknown[]) => Promise<unknown>;
  readonly implementation: object;
}

export class HandlerRegistry {
  readonly #endpoints = new Map<string, RegisteredEndpoint>();
  readonly #parent: HandlerRegistry | undefined;

  /** `parent`: a registry consulted when this one has no entry (a server's, for its connections). */
  constructor(parent?: HandlerRegistry) {
    this.#parent = parent;
  }

  register<C extends Contract>(contract: C, implementation: Implementation<C>): void {
    const impl = implementation as unknown as Record<string, unknown>;
    const entries: RegisteredEndpoint[] = [];
    for (const [name, def] of Object.entries(contract.endpoints)) {
      const handler = impl[name];
      if (typeof handler !== 'function') throw new TypeError(`implementation of ${contract.name} lacks endpoint ${name}`);
      const wireName = wireEndpointName(contract, name);
      if (this.#endpoints.has(wireName)) throw new Error(`endpoint ${wireName} is already registered`);
      entries.push({ wireName, def, handler: handler as RegisteredEndpoint['handler'], implementation: impl });
    }
    for (const entry of entries) this.#endpoints.set(entry.wireName, entry);
  }

  lookup(wireName: string): RegisteredEndpoint | undefined {
    return this.#endpoints.get(wireName) ?? this.#parent?.lookup(wireName);
  }
}
