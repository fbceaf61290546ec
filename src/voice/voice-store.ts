import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The file extension a voice note's type is kept under (WhatsApp sends OGG/Opus; Messenger MP4/AAC). */
export function extensionOf(mime: string | undefined): string {
  const type = (mime ?? '').split(';')[0]!.trim().toLowerCase();
  const known: Record<string, string> = { 'audio/ogg': 'ogg', 'audio/opus': 'opus', 'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'audio/aac': 'aac', 'audio/amr': 'amr', 'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/webm': 'webm', 'video/mp4': 'mp4' };
  return known[type] ?? 'audio';
}

const hashed = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/**
 * Where voice notes are kept: one folder a channel and sender (named by a hash, so no phone
 * number shows in a path), one file an event. An erasure removes the sender's folder; the
 * retention removes files older than it keeps messages.
 */
export class VoiceStore {
  constructor(readonly dir: string) {}

  /** The folder of a sender's notes, relative to the store. */
  private folderOf(channel: string, sender: string): string {
    return path.join(channel.replace(/[^a-z0-9-]/gi, '_'), hashed(sender));
  }

  /** A note's name without extension, relative to the store: the same for every try of its event. */
  baseOf(channel: string, sender: string, event: string): string {
    return path.join(this.folderOf(channel, sender), hashed(event));
  }

  /** The absolute path of a file named relative to the store; throws for a name that leaves it. */
  absolute(relative: string): string {
    const full = path.resolve(this.dir, relative);
    if (!full.startsWith(path.resolve(this.dir) + path.sep)) throw new Error(`${relative} is not a voice note's file`);
    return full;
  }

  /** The audio file already kept for a note, if any. */
  existing(base: string): string | undefined {
    const folder = path.dirname(this.absolute(`${base}.x`));
    const stem = path.basename(base);
    const name = fs.existsSync(folder) ? fs.readdirSync(folder).find((f) => f.startsWith(`${stem}.`) && !f.endsWith('.json') && !f.endsWith('.partial')) : undefined;
    return name ? path.join(path.dirname(base), name) : undefined;
  }

  /** Writes a note's bytes whole or not at all (a crash mid-write leaves no half file to play). */
  write(base: string, ext: string, bytes: Buffer): string {
    const relative = `${base}.${ext}`;
    const full = this.absolute(relative);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(`${full}.partial`, bytes);
    fs.renameSync(`${full}.partial`, full);
    return relative;
  }

  /** The kept outcome of a note's transcription, so a retry or a restart does not hear it again. */
  readResult<T>(base: string): T | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.absolute(`${base}.json`), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** Keeps a note's outcome beside it. */
  writeResult(base: string, result: unknown): void {
    const full = this.absolute(`${base}.json`);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(`${full}.partial`, JSON.stringify(result));
    fs.renameSync(`${full}.partial`, full);
  }

  /** Removes every note of these senders (an erasure); returns how many files went. */
  forget(channel: string, senders: string[]): number {
    let removed = 0;
    for (const sender of senders) {
      const folder = this.absolute(path.join(this.folderOf(channel, sender), 'x'));
      const dir = path.dirname(folder);
      if (!fs.existsSync(dir)) continue;
      removed += fs.readdirSync(dir).filter((f) => !f.endsWith('.json')).length;
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return removed;
  }

  /** Removes the notes written before `before` (the message retention); returns how many audio files went. */
  prune(before: Date): number {
    let removed = 0;
    const walk = (dir: string) => {
      if (!fs.existsSync(dir)) return;
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          walk(full);
          if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
        } else if (fs.statSync(full).mtime < before) {
          fs.rmSync(full, { force: true });
          if (!entry.name.endsWith('.json')) removed += 1;
        }
      }
    };
    walk(this.dir);
    return removed;
  }
}
