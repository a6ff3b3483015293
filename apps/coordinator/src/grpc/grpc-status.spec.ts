import { status } from '@grpc/grpc-js';
import { UnknownSiteError } from '@fedistill/store';
import { AuthenticationError, RequestInvalidError } from '../domain/errors';
import { toServiceError } from './grpc-status';

describe(toServiceError.name, () => {
  it('maps domain errors to their status with the message', () => {
    expect(toServiceError(new RequestInvalidError('field x')).error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'field x',
    });
    expect(toServiceError(new AuthenticationError('bad signature')).error.code).toBe(status.UNAUTHENTICATED);
    expect(toServiceError(new UnknownSiteError('s')).error.code).toBe(status.NOT_FOUND);
  });

  it('turns anything else into INTERNAL without leaking its message', () => {
    const sut = toServiceError(new Error('SQLITE_CORRUPT at /var/lib/secret/path'));
    expect(sut.known).toBe(false);
    expect(sut.error).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
  });

  it('answers a database that went away (PostgreSQL restarting) as UNAVAILABLE, which nodes retry', () => {
    const restarting = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    const sut = toServiceError(restarting);
    expect(sut.known).toBe(false);
    expect(sut.error).toMatchObject({
      code: status.UNAVAILABLE,
      details: "the coordinator's database is unavailable; try again",
    });
  });
});
