// The pricing of a round lives in libs/protocol (round-price.ts) so that `fedistill privacy cost
// --federation` runs the very function a site's ledger charges with; the node imports it here.
export { priceRound, type LedgerQuote, type RoundPrice } from '@fedistill/protocol';
