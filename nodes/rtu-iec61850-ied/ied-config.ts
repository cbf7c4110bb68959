/** What the rtu-iec61850-ied config node offers the pollers that share its link. */
import type { Node } from 'node-red';
import type { IedCredentials } from '../lib/iec61850/ied-config';
import type { IedLink } from '../lib/iec61850/ied-link';

export interface IedConfigNode extends Node<IedCredentials> {
  /** The shared link, or undefined when the configuration is invalid (see `configError`). */
  acquire(userId: string): IedLink | undefined;
  release(userId: string): Promise<void>;
  link?: IedLink;
  configError?: string;
  iedName: string;
}
