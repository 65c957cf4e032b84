/**
 * Turns urql's CombinedError into what a user should read: the server's own messages
 * (which name the offending field and value), without urql's "[GraphQL]" prefix.
 */
import type { CombinedError } from 'urql';

export interface ApiError {
  message: string;
  code: string | null;
}

export function apiErrors(error: CombinedError): ApiError[] {
  if (error.graphQLErrors.length > 0) {
    return error.graphQLErrors.map((e) => {
      const code = e.extensions?.['code'];
      return { message: e.message, code: typeof code === 'string' ? code : null };
    });
  }
  if (error.networkError) {
    return [{ message: `Cannot reach the server: ${error.networkError.message}`, code: 'NETWORK' }];
  }
  return [{ message: error.message, code: null }];
}

export function apiErrorMessage(error: CombinedError): string {
  return apiErrors(error)
    .map((e) => e.message)
    .join('\n');
}
