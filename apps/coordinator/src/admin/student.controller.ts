import { Controller, Inject, Param, Res, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FileFieldsInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { RequestInvalidError } from '../domain/errors';
import type { EvaluationSets, EvaluationSetView } from '../federation/evaluation-sets';
import type { StudentCatalog, StudentView } from '../students/student-catalog';
import { EVALUATION_SETS, STUDENT_CATALOG } from '../tokens';
import { AdminRoute } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/** A file part of a multipart upload (multer, in memory). */
interface UploadedPart {
  readonly buffer: Buffer;
}

/** 'latest' or a version number >= 1 (0 means the latest to the catalog). */
function versionOf(raw: string): number {
  if (raw === 'latest') return 0;
  if (!/^[1-9][0-9]{0,8}$/.test(raw))
    throw new RequestInvalidError(`student version must be a number >= 1 or 'latest', not '${raw}'`);
  return Number(raw);
}

/** Published students and the evaluation set they are measured on (bearer token; see routes.ts). */
@Controller()
export class StudentController {
  constructor(
    @Inject(STUDENT_CATALOG) private readonly students: StudentCatalog,
    @Inject(EVALUATION_SETS) private readonly evaluationSets: EvaluationSets,
  ) {}

  @AdminRoute(ADMIN_ROUTES.listStudents)
  async list(@Param('id') id: string): Promise<{ students: StudentView[] }> {
    return { students: await this.students.list(id) };
  }

  @AdminRoute(ADMIN_ROUTES.getStudent)
  show(@Param('id') id: string, @Param('version') version: string): Promise<StudentView> {
    return this.students.get(id, versionOf(version));
  }

  /** The student's ONNX file; its SHA-256 is in the X-Fedistill-Sha256 header. */
  @AdminRoute(ADMIN_ROUTES.getStudentModel)
  async model(
    @Param('id') id: string,
    @Param('version') version: string,
    @Res() res: Response,
  ): Promise<void> {
    const { view, bytes } = await this.students.onnx(id, versionOf(version));
    res
      .status(200)
      .setHeader('content-type', 'application/octet-stream')
      .setHeader('x-fedistill-sha256', view.sha256)
      .setHeader('x-fedistill-version', String(view.version))
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /**
   * Multipart form with two NPY files: `inputs` [rows, ...input shape] (float32/float64) and
   * `labels` [rows] (integer class indices). Kept by the coordinator only; never served to sites.
   */
  @AdminRoute(ADMIN_ROUTES.putEvaluationSet)
  @UseInterceptors(
    FileFieldsInterceptor(
      [
        { name: 'inputs', maxCount: 1 },
        { name: 'labels', maxCount: 1 },
      ],
      { limits: { fileSize: 512 * 1024 * 1024, files: 2 } },
    ),
  )
  register(
    @Param('id') id: string,
    @UploadedFiles() files: { inputs?: UploadedPart[]; labels?: UploadedPart[] } | undefined,
  ): Promise<EvaluationSetView> {
    const inputs = files?.inputs?.[0];
    const labels = files?.labels?.[0];
    if (!inputs || !labels)
      throw new RequestInvalidError(
        "send a multipart/form-data body with two NPY files: 'inputs' and 'labels'",
      );
    const bytes = (p: UploadedPart) =>
      new Uint8Array(p.buffer.buffer, p.buffer.byteOffset, p.buffer.byteLength);
    return this.evaluationSets.register(id, bytes(inputs), bytes(labels));
  }

  @AdminRoute(ADMIN_ROUTES.getEvaluationSet)
  showEvaluationSet(@Param('id') id: string): Promise<EvaluationSetView> {
    return this.evaluationSets.show(id);
  }
}
