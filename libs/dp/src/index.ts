/**
 * @fedistill/dp: exact integer noise samplers, distributed noise shares, clipping and randomized
 * rounding, an RDP accountant with the improved (ε, δ) conversion, GNMax bounds and a budget ledger.
 */
export { type RandomSource, cryptoRandom, seededRandom } from './random-source';
export { UniformSampler } from './uniform';
export { DiscreteGaussianSampler, bernoulliExp, discreteLaplace } from './discrete-gaussian';
export { samplePoisson, sampleSkellam, logFactorial } from './poisson';
export {
  type NoiseShareSpec,
  type Sensitivity,
  perSiteVariance,
  honestShares,
  sampleNoiseShare,
  aggregateMechanism,
} from './noise';
export { type QuantizeOptions, clipL2, quantize, roundedNormBound } from './rounding';
export { type Mechanism, rdp, validateMechanism } from './mechanisms';
export { DEFAULT_ORDERS, type EpsilonAtOrder, epsilonFromRdp, classicEpsilonFromRdp } from './conversion';
export { RdpAccountant, rdpCurve } from './accountant';
export { PrivacyLedger, BudgetExceededError, type Release, type Quote, type LedgerState } from './ledger';
export { privacyCost, type CostRequest, type CostResult } from './cost';
export { noisyArgmax, confidentGnmax, gnmaxCharges } from './gnmax';
