// What a wire parser says about a packet: OK, or the reason it must be dropped. Parsers
// never throw on bad input; the layer that called them counts the reason in its statistics.

export const WIRE_OK = 0;
/** Shorter than its header or than its own length fields claim. */
export const WIRE_TRUNCATED = 1;
/** The checksum does not verify. */
export const WIRE_BAD_CHECKSUM = 2;
/** A field holds a value the protocol does not allow (version, header length, option layout). */
export const WIRE_MALFORMED = 3;
/** Well formed but of a kind this stack does not handle. */
export const WIRE_UNSUPPORTED = 4;

export type WireStatus = 0 | 1 | 2 | 3 | 4;

export const WIRE_STATUS_NAMES = ['ok', 'truncated', 'bad checksum', 'malformed', 'unsupported'] as const;
