/** Network failures in the integrator's words, naming the target that failed. */
import { describeTlsError } from './tls-material';

export function describeNetError(err: unknown, target: string): string {
  const e = (err ?? {}) as NodeJS.ErrnoException & { hostname?: string };
  const code = e.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return `${target} refused the connection (nothing listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${target}: host name ${e.hostname ?? ''} not found (DNS ${code})`.replace('  ', ' ');
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return `${target} did not answer in time (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${target} is unreachable from this machine (${code}): check the network and routes`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${target} closed the connection (${code})`;
    default: {
      const tls = describeTlsError(e);
      if (tls) return `${target}: ${tls}`;
      return `${target}: ${e.message || String(err)}${code ? ` (${code})` : ''}`;
    }
  }
}
