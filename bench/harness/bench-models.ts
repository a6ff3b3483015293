// The models the engine benchmarks train; bench/torch_throughput.py builds the same ones in PyTorch.
import { mlp, type ModelDefinition, smallCnn } from '@fedistill/engine';

/** The MLP of the issue: 784-256-10. */
export const benchMlp = (): ModelDefinition => mlp({ inputShape: [1, 28, 28], hidden: [256], outputs: 10 });

/** The small CNN: two 3x3 conv stages (16, 32 channels) with 2x2 max-pool, dense 128, 10 outputs. */
export const CNN_SHAPE = { c1: 16, c2: 32, hidden: 128 } as const;
export const benchCnn = (): ModelDefinition =>
  smallCnn({
    inputShape: [1, 28, 28],
    channels: [CNN_SHAPE.c1, CNN_SHAPE.c2],
    hidden: CNN_SHAPE.hidden,
    outputs: 10,
  });

export const benchModel = (name: 'mlp' | 'cnn'): ModelDefinition =>
  name === 'mlp' ? benchMlp() : benchCnn();
