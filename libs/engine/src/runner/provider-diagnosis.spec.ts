import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CUDA_PROVIDER_FILES,
  defaultProviderHost,
  diagnoseProviderFailure,
  type ProviderHost,
} from './provider-diagnosis';

const ORT_CUDA_ERROR = new Error(
  'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
);
const ORT_WEBGPU_ERROR = new Error(
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 lambda adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
);

describe(diagnoseProviderFailure.name, () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-bin-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const host = (o: Partial<ProviderHost> = {}): ProviderHost => ({
    ortLibDir: dir,
    ortVersion: '1.30.0',
    platform: 'linux/x64',
    loadError: () => undefined,
    ...o,
  });
  const withCudaFiles = () => CUDA_PROVIDER_FILES.forEach((f) => fs.writeFileSync(path.join(dir, f), ''));

  it('names the CUDA provider files missing from where ONNX Runtime looks, and where to get them', () => {
    fs.writeFileSync(path.join(dir, 'libonnxruntime_providers_shared.so'), '');
    expect(diagnoseProviderFailure('cuda', ORT_CUDA_ERROR, host())).toBe(
      `ONNX Runtime 1.30.0 looked for its CUDA provider in ${dir} and libonnxruntime_providers_cuda.so is not there ` +
        '(onnxruntime-node does not ship them). Fix: copy libonnxruntime_providers_shared.so and ' +
        'libonnxruntime_providers_cuda.so from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 ' +
        '(runtimes/linux-x64/native/) into that folder, then install CUDA 12 and cuDNN 9; see docs/gpu.md',
    );
  });

  it('names the CUDA library the loader cannot find when the provider files are there', () => {
    withCudaFiles();
    const sut = diagnoseProviderFailure(
      'cuda',
      ORT_CUDA_ERROR,
      host({
        loadError: (f) =>
          f.endsWith('cuda.so') ? 'libcublasLt.so.12: cannot open shared object file' : undefined,
      }),
    );
    expect(sut).toMatch(
      /\/libonnxruntime_providers_cuda\.so is there but cannot be loaded: libcublasLt\.so\.12: cannot open shared object file\. Fix: install the CUDA 12 and cuDNN 9 libraries/,
    );
  });

  it('points at the driver when every library loads', () => {
    withCudaFiles();
    expect(
      diagnoseProviderFailure('cuda', new Error('CUDA failure 100: no CUDA-capable device'), host()),
    ).toMatch(
      /^the CUDA provider's libraries load, but ONNX Runtime could not start it \(CUDA failure 100: no CUDA-capable device\)\. Check that nvidia-smi sees the GPU/,
    );
  });

  it('says where onnxruntime-node has no CUDA or WebGPU provider at all', () => {
    expect(diagnoseProviderFailure('cuda', ORT_CUDA_ERROR, host({ platform: 'darwin/arm64' }))).toBe(
      'onnxruntime-node 1.30.0 has a CUDA provider only for linux/x64, and this is darwin/arm64',
    );
    expect(diagnoseProviderFailure('webgpu', ORT_WEBGPU_ERROR, host({ platform: 'linux/arm64' }))).toMatch(
      /^onnxruntime-node 1\.30\.0 has no WebGPU provider for linux\/arm64/,
    );
  });

  it('names the missing Vulkan loader for webgpu', () => {
    const sut = diagnoseProviderFailure(
      'webgpu',
      ORT_WEBGPU_ERROR,
      host({
        loadError: (f) =>
          f === 'libvulkan.so.1' ? 'libvulkan.so.1: cannot open shared object file' : undefined,
      }),
    );
    expect(sut).toMatch(
      /^the Vulkan loader libvulkan\.so\.1 is not installed \(libvulkan\.so\.1: cannot open shared object file\)/,
    );
    expect(sut).toMatch(/install libvulkan1 .*vulkaninfo --summary; see docs\/gpu\.md$/);
  });

  it('points at the Vulkan driver (ICD) when the loader is there but finds no adapter', () => {
    expect(diagnoseProviderFailure('webgpu', ORT_WEBGPU_ERROR, host())).toMatch(
      /^the Vulkan loader is installed but found no GPU \(Failed to get a WebGPU adapter: No supported adapters\): .*VK_DRIVER_FILES .*nvidia_icd\.json/,
    );
  });
});

describe(defaultProviderHost.name, () => {
  it('finds onnxruntime-node and asks the real dynamic loader', () => {
    const sut = defaultProviderHost();
    expect(fs.existsSync(path.join(sut.ortLibDir, 'libonnxruntime.so.1'))).toBe(process.platform === 'linux');
    expect(sut.ortVersion).toBe('1.30.0');
    expect(sut.loadError('libc.so.6')).toBeUndefined();
    expect(sut.loadError('libfedistill-absent.so.9')).toMatch(
      /libfedistill-absent\.so\.9: cannot open shared object file/,
    );
    const notElf = path.join(os.tmpdir(), `not-elf-${process.pid}.so`);
    fs.writeFileSync(notElf, 'not a library');
    try {
      expect(sut.loadError(notElf)).toMatch(/invalid ELF header|file too short/);
    } finally {
      fs.rmSync(notElf);
    }
  });
});
