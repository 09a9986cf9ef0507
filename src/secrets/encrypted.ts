import { readFile } from 'node:fs/promises';
import { ThvError } from '../core/errors.js';
import { withFileLock, writeFileAtomic } from '../core/files.js';
import { assertSecretName } from './names.js';
import { DEFAULT_KDF, assertPasswordMatches, deriveKey, openEnvelope, parseEnvelope, sameSaltAndKdf, sealEnvelope, type DerivedKey, type Envelope, type KdfParams } from './envelope.js';
import type { SecretsCapabilities, SecretsProvider } from './provider.js';

/** `creating` is true when the password will protect a new store, so a prompt can ask twice. */
export type PasswordGetter = (purpose: { creating: boolean }) => Promise<string>;

export interface EncryptedSecretsOptions {
  /** paths.secretsFile */
  file: string;
  password: PasswordGetter;
  /** Parameters for a new store; an existing store keeps the ones in its header. */
  kdf?: KdfParams;
  lockWaitMs?: number;
}

/**
 * The `encrypted` provider: one AES-256-GCM file (envelope.ts). Reads need no lock because writes
 * are atomic renames; every change is read-decrypt-modify-encrypt-write inside the file lock, so
 * two processes changing different keys never lose one. The salt, and with it the derived key, is
 * kept across writes, so a command derives the key once; every write uses a fresh nonce.
 */
export class EncryptedSecretsProvider implements SecretsProvider {
  readonly type = 'encrypted' as const;
  readonly capabilities: SecretsCapabilities = { canRead: true, canWrite: true, canDelete: true, canList: true };
  private derived: DerivedKey | undefined;

  constructor(private readonly options: EncryptedSecretsOptions) {}

  get file(): string {
    return this.options.file;
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    return (await this.load()).entries.get(name);
  }

  async list(): Promise<string[]> {
    return [...(await this.load()).entries.keys()].sort();
  }

  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    await this.change((entries) => {
      entries.set(name, value);
      return true;
    });
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    await this.change((entries) => entries.delete(name));
  }

  /** Obtains the password and proves it against the file, if there is one. */
  async unlock(): Promise<void> {
    const envelope = await this.readEnvelope();
    if (envelope) await this.keyFor(envelope);
    else await this.newKey();
  }

  /** Creates an empty store when there is none; otherwise checks that the password opens it. */
  async initialize(): Promise<{ created: boolean }> {
    return withFileLock(this.file, async () => {
      const envelope = await this.readEnvelope();
      if (envelope) {
        openEnvelope(envelope, await this.keyFor(envelope), this.file);
        return { created: false };
      }
      await writeFileAtomic(this.file, sealEnvelope(new Map(), await this.newKey()));
      return { created: true };
    }, this.lockOptions());
  }

  private async load(): Promise<{ entries: Map<string, string>; derived: DerivedKey | undefined }> {
    const envelope = await this.readEnvelope();
    if (!envelope) return { entries: new Map(), derived: undefined };
    const derived = await this.keyFor(envelope);
    return { entries: openEnvelope(envelope, derived, this.file), derived };
  }

  /** `edit` returns whether it changed anything; nothing is written when it did not. */
  private async change(edit: (entries: Map<string, string>) => boolean): Promise<void> {
    await withFileLock(this.file, async () => {
      const { entries, derived } = await this.load();
      if (!edit(entries)) return;
      await writeFileAtomic(this.file, sealEnvelope(entries, derived ?? (await this.newKey())));
    }, this.lockOptions());
  }

  private async readEnvelope(): Promise<Envelope | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ThvError('secrets_unavailable', `cannot read the secrets file ${this.file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check that the file and its folder belong to you.',
      });
    }
    return parseEnvelope(bytes, this.file);
  }

  private async keyFor(envelope: Envelope): Promise<DerivedKey> {
    if (this.derived && sameSaltAndKdf(this.derived, envelope)) return this.derived;
    const derived = await deriveKey(await this.options.password({ creating: false }), envelope.kdf, envelope.salt);
    assertPasswordMatches(envelope, derived, this.file);
    this.derived = derived;
    return derived;
  }

  /** A key for a store that does not exist yet; one already proven in this process will do. */
  private async newKey(): Promise<DerivedKey> {
    this.derived ??= await deriveKey(await this.options.password({ creating: true }), this.options.kdf ?? DEFAULT_KDF);
    return this.derived;
  }

  private lockOptions() {
    return this.options.lockWaitMs === undefined ? {} : { waitMs: this.options.lockWaitMs };
  }
}
