/**
 * Extension negotiation (RFC 6455 §9.1), for both roles in one place: the client's offers, the
 * server's choice among a request's offers, the client's acceptance of the server's choice, and
 * the rule both share: each extension claims its RSV bits, no two may claim the same one, and
 * every extension made is disposed of when it is not kept.
 */
import type { Extension, ExtensionFactory, ExtensionOffer } from './extensions/extension.ts';
import { sameAsciiCase } from './http/ascii-case.ts';
import { type ConnectionCore, NONE } from './connection-core.ts';

/** Client: what to offer, one header element per offer of each factory, in order of preference. */
export function offersOf(factories: readonly ExtensionFactory[]): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  for (const factory of factories) {
    for (const params of factory.offer()) offers.push({ name: factory.name, params });
  }
  return offers;
}

/** The extensions chosen so far and the RSV bits they claim. */
class Chosen {
  readonly extensions: Extension[] = [];
  rsvUsed = 0;

  /** Keep `extension` unless one already chosen claims one of its RSV bits. */
  add(extension: Extension): boolean {
    if ((extension.rsvBits & this.rsvUsed) !== 0) return false;
    this.rsvUsed |= extension.rsvBits;
    this.extensions.push(extension);
    return true;
  }

  disposeAll(): void {
    for (const extension of this.extensions) extension.dispose();
  }
}

/**
 * Server: for each factory, in our order of preference, the request's offers of it; the first it
 * can accept (and whose RSV bits are free) is taken. Most clients offer none: no lists are made then.
 */
/** What is chosen when nothing was offered (or nothing is configured): one object for every such handshake. */
export const NOTHING_CHOSEN: { accepted: ExtensionOffer[]; extensions: Extension[] } = Object.freeze({
  accepted: NONE as never[],
  extensions: NONE as never[],
});

export function chooseExtensions(
  factories: readonly ExtensionFactory[],
  offered: readonly ExtensionOffer[],
): { accepted: ExtensionOffer[]; extensions: Extension[] } {
  if (offered.length === 0 || factories.length === 0) return NOTHING_CHOSEN;
  const accepted: ExtensionOffer[] = [];
  const chosen = new Chosen();
  for (const factory of factories) {
    const offers = offered.filter((o) => sameAsciiCase(o.name, factory.name)).map((o) => o.params);
    if (offers.length === 0) continue;
    const made = factory.negotiate(offers);
    if (made === null) continue;
    if (!chosen.add(made.extension)) {
      made.extension.dispose();
      continue;
    }
    accepted.push({ name: factory.name, params: made.params });
  }
  return { accepted, extensions: chosen.extensions };
}

/** Client: make the extensions the server chose, or say why its choice is unacceptable (nothing is kept then). */
export function acceptExtensions(
  factories: readonly ExtensionFactory[],
  accepted: readonly ExtensionOffer[],
): Extension[] | string {
  const chosen = new Chosen();
  for (const element of accepted) {
    const factory = factories.find((f) => sameAsciiCase(f.name, element.name));
    let problem: string | null = null;
    if (factory === undefined) problem = `${element.name} was not offered`;
    else if (chosen.extensions.some((e) => e.name === factory.name)) problem = `${factory.name} accepted twice`;
    else {
      const made = factory.accept(element.params);
      if (typeof made === 'string') problem = made;
      else if (!chosen.add(made)) {
        made.dispose();
        problem = `${element.name} claims RSV bits already in use`;
      }
    }
    if (problem !== null) {
      chosen.disposeAll();
      return problem;
    }
  }
  return chosen.extensions;
}

/** The RSV bits the negotiated extensions claim (RSV1 = 0x4). */
export function allowedRsv(extensions: readonly Extension[]): number {
  let rsv = 0;
  for (const extension of extensions) rsv |= extension.rsvBits;
  return rsv;
}

/** The connection opens with these extensions (the shared empty list when none). */
export function useExtensions(core: ConnectionCore, extensions: Extension[]): void {
  const list = extensions.length === 0 ? NONE : extensions;
  core.extensions = list;
  if (core.parser !== null) core.parser.allowedRsv = allowedRsv(list);
}
