import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';

/**
 * What the diagnosis needs to know about this machine: where onnxruntime-node's native libraries
 * are, its version, and whether the dynamic loader can load a library. Injected by specs.
 */
export interface ProviderHost {
  /** The folder holding libonnxruntime.so.1; ONNX Runtime looks for its provider libraries here. */
  readonly ortLibDir: string;
  readonly ortVersion: string;
  /** `${process.platform}/${process.arch}`. */
  readonly platform: string;
  /** Undefined when the dynamic loader can load `file` (a path or a soname), else its error. */
  readonly loadError: (file: string) => string | undefined;
}

/** The CUDA provider's files that onnxruntime-node does not ship (its install step fetches them from NuGet). */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/**
 * Asks the dynamic loader to load a library, through Node's dlopen: a library that is not a Node
 * addon loads and then fails with "did not self-register", which means the loader found it and
 * every library it needs. Only used after a provider failed, to say what is missing.
 */
function loaderError(file: string): string | undefined {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, file, os.constants.dlopen.RTLD_LAZY);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return /did not self-register/.test(message) ? undefined : message.split('\n')[0]!;
  }
}

/** This process's onnxruntime-node. */
export function defaultProviderHost(): ProviderHost {
  const dist = path.dirname(require.resolve('onnxruntime-node'));
  return {
    ortLibDir: path.join(dist, '..', 'bin', 'napi-v6', process.platform, process.arch),
    ortVersion: ort.env.versions.node ?? ort.env.versions.common,
    platform: `${process.platform}/${process.arch}`,
    loadError: loaderError,
  };
}

/** ONNX Runtime's own words, without the source path and assertion text in front of them. */
function ortSaid(message: string): string {
  const line = (message.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  const tail = line.includes(' was false. ')
    ? line.slice(line.lastIndexOf(' was false. ') + ' was false. '.length)
    : line;
  return tail.replace(/^\/\S+:\d+ /, '').slice(0, 200);
}

function diagnoseCuda(err: Error, h: ProviderHost): string {
  const v = h.ortVersion;
  if (h.platform !== 'linux/x64')
    return `onnxruntime-node ${v} has a CUDA provider only for linux/x64, and this is ${h.platform}`;
  const missing = CUDA_PROVIDER_FILES.filter((f) => !fs.existsSync(path.join(h.ortLibDir, f)));
  if (missing.length > 0)
    return (
      `ONNX Runtime ${v} looked for its CUDA provider in ${h.ortLibDir} and ${missing.join(' and ')} ` +
      `${missing.length === 1 ? 'is' : 'are'} not there (onnxruntime-node does not ship them). Fix: copy ` +
      `${CUDA_PROVIDER_FILES.join(' and ')} from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux ${v} ` +
      `(runtimes/linux-x64/native/) into that folder, then install CUDA 12 and cuDNN 9; see docs/gpu.md`
    );
  const file = path.join(h.ortLibDir, 'libonnxruntime_providers_cuda.so');
  const loadError = h.loadError(file);
  if (loadError !== undefined)
    return (
      `${file} is there but cannot be loaded: ${loadError}. Fix: install the CUDA 12 and cuDNN 9 ` +
      `libraries ONNX Runtime ${v}'s CUDA provider is built for and make them findable ` +
      `(ldconfig, or LD_LIBRARY_PATH in the node's service); see docs/gpu.md`
    );
  return (
    `the CUDA provider's libraries load, but ONNX Runtime could not start it (${ortSaid(err.message)}). ` +
    `Check that nvidia-smi sees the GPU, that the driver supports CUDA 12, and that the node may open /dev/nvidia*`
  );
}

function diagnoseWebgpu(err: Error, h: ProviderHost): string {
  const v = h.ortVersion;
  if (h.platform === 'linux/arm64')
    return `onnxruntime-node ${v} has no WebGPU provider for linux/arm64 (its README lists it as not available)`;
  if (!h.platform.startsWith('linux/'))
    return `ONNX Runtime's WebGPU provider found no usable GPU adapter (${ortSaid(err.message)})`;
  const loadError = h.loadError('libvulkan.so.1');
  if (loadError !== undefined)
    return (
      `the Vulkan loader libvulkan.so.1 is not installed (${loadError}): ONNX Runtime's WebGPU provider ` +
      `reaches the GPU through Vulkan on Linux. Fix: install libvulkan1 and the GPU driver's Vulkan ` +
      `driver, check with vulkaninfo --summary; see docs/gpu.md`
    );
  if (/adapter/i.test(err.message))
    return (
      `the Vulkan loader is installed but found no GPU (${ortSaid(err.message)}): no Vulkan driver (ICD) ` +
      `loaded. Fix: install the driver's Vulkan support and, where its ICD file is not in ` +
      `/usr/share/vulkan/icd.d, set VK_DRIVER_FILES to it (NVIDIA: nvidia_icd.json; a container also ` +
      `needs /dev/nvidia-modeset); check with vulkaninfo --summary; see docs/gpu.md`
    );
  return `ONNX Runtime's WebGPU provider did not start: ${ortSaid(err.message)}`;
}

/**
 * Why a provider failed to open a session, in one line: what was missing (for CUDA the provider
 * library path ONNX Runtime looked for, or the CUDA library the loader could not find; for WebGPU
 * the Vulkan loader or a Vulkan driver) and how to fix it. docs/gpu.md has the full recipes.
 */
export function diagnoseProviderFailure(
  provider: string,
  err: Error,
  host: ProviderHost = defaultProviderHost(),
): string {
  if (provider === 'cuda') return diagnoseCuda(err, host);
  if (provider === 'webgpu') return diagnoseWebgpu(err, host);
  return ortSaid(err.message);
}
