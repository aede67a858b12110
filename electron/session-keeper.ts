/**
 * The hub's SessionKeeper under Electron: a password sign-in's session token kept across restarts, encrypted
 * with safeStorage (the OS keychain / DPAPI / libsecret) in session.bin (mode 600) in the user data dir. Where
 * safeStorage cannot encrypt (no keyring), nothing is written: the token stays in memory, as in the browser host.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeStorage } from 'electron';
import type { SessionKeeper } from '../hub';

export function safeStorageKeeper(dataDir: string): SessionKeeper {
  const file = join(dataDir, 'session.bin');
  return {
    load() {
      if (!existsSync(file) || !safeStorage.isEncryptionAvailable()) return null;
      try {
        return safeStorage.decryptString(readFileSync(file));
      } catch {
        return null;
      }
    },
    save(token) {
      if (token === null || !safeStorage.isEncryptionAvailable()) return rmSync(file, { force: true });
      writeFileSync(file, safeStorage.encryptString(token), { mode: 0o600 });
    },
  };
}
