import * as fs from 'node:fs';
import { parseNpy } from '@fedistill/data';
import type { TeacherEnsemble } from '@fedistill/distill';
import { DeclineReason } from '@fedistill/wire';
import { refuse, RoundRefusal } from './announcement-checks';
import { teacherInputs } from './site-features';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import {
  downloadReleasedTargets,
  ReleasedTargetsError,
  type ReleasedTargetsSource,
} from './released-targets';
import type { PreparedSite } from './site-preparation';

export interface TeacherRevisitOptions {
  readonly config: NodeConfig;
  readonly log: SessionLogger;
  /** Rounds.GetReleasedTargets through the node's egress path, logged under the round it precedes. */
  readonly source: (federationId: string, round: number) => ReleasedTargetsSource;
}

/**
 * FedMD's digest and revisit at a site (Li and Wang 2019, arXiv:1910.03581, §2): before it
 * answers distillation round r > 1 of a federation with `revisit`, the site downloads the
 * released targets of the completed rounds before r and, unless its teachers already digested
 * them, fine-tunes each teacher on them (digest) and then on its own partition (revisit), as the
 * simulator does between rounds (libs/simulate run-simulation.ts).
 *
 * Privacy (docs/privacy.md, "Digest and revisit"): the targets are the released noisy aggregate,
 * so digesting them is post-processing; the revisit touches only each teacher's own disjoint
 * partition, so one record still changes one teacher's contribution to the next release, which
 * the ledger charges in full (adaptive composition, Mironov 2017, arXiv:1702.07476, Prop. 1).
 * Arbitrary targets from a malicious coordinator can hurt accuracy, not privacy.
 *
 * Deterministic for a given node.yaml: the fine-tuning seed is teachers.seed x 1000 + the latest
 * round digested (the simulator's formula, with the site's teacher seed). Site-provided ONNX
 * teachers cannot be fine-tuned: the node says so once and answers without revisit.
 */
export class TeacherRevisit {
  /** Per teacher ensemble: the last round r - 1 checked, and the latest round whose targets it digested. */
  private readonly state = new WeakMap<TeacherEnsemble, { checked: number; digested: number }>();
  private readonly warned = new Set<string>();

  constructor(private readonly o: TeacherRevisitOptions) {}

  /** Runs before the release of distillation round `round` is computed; a no-op when nothing is due. */
  async beforeRound(round: number, local: LocalFederation, site: PreparedSite): Promise<void> {
    const terms = site.revisit;
    if (!terms || round <= 1) return;
    const { config, log } = this.o;
    if (config.teachers.onnx) {
      if (!this.warned.has(local.id))
        log.warn(
          { federation: local.id },
          'revisit skipped: site-provided ONNX teachers (teachers.onnx) cannot be fine-tuned; answering without revisit',
        );
      this.warned.add(local.id);
      return;
    }
    const state = this.state.get(site.teachers) ?? { checked: 0, digested: 0 };
    if (state.checked >= round - 1) return;
    const targets = await this.download(round, local, site);
    const latest = targets.rounds.at(-1) ?? 0;
    if (targets.rows.length > 0 && latest > state.digested) {
      const started = Date.now();
      const x = teacherInputs(local, site, targets.rows);
      const seed = config.teachers.seed * 1000 + latest;
      await site.teachers.digestAndRevisit(x, targets.rows.length, targets.probs, {
        digestEpochs: terms.digestEpochs,
        localEpochs: terms.localEpochs,
        batchSize: config.teachers.batchSize,
        learningRate: terms.learningRate,
        seed,
        provider: site.provider.provider,
      });
      log.info(
        {
          federation: local.id,
          round,
          rows: targets.rows.length,
          rounds: targets.rounds,
          digestEpochs: terms.digestEpochs,
          localEpochs: terms.localEpochs,
          seed,
          provider: site.provider.provider,
          ms: Date.now() - started,
        },
        'revisit: teachers digested the released targets and revisited their partitions',
      );
      state.digested = latest;
    }
    state.checked = round - 1;
    this.state.set(site.teachers, state);
  }

  private async download(round: number, local: LocalFederation, site: PreparedSite) {
    const file = local.referenceFile;
    const referenceRowCount = parseNpy(file, new Uint8Array(fs.readFileSync(file))).shape[0] ?? 0;
    try {
      return await downloadReleasedTargets(this.o.source(local.id, round), {
        federationId: local.id,
        beforeRound: round,
        referenceRows: referenceRowCount,
        classes: site.schema.labels.length,
      });
    } catch (err) {
      if (err instanceof ReleasedTargetsError) throw refuse(err.message);
      throw new RoundRefusal(
        DeclineReason.DECLINE_REASON_UNAVAILABLE,
        `could not download the released targets for revisit: ${(err as Error).message}`,
      );
    }
  }
}
