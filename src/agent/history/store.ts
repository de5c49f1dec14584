// The agent's memory (docs/architecture.md#allocation-agent): every completed stage's features and the level the search
// settled on, and the initial-point models trained from them, in one SQLite file.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StumpModel, TrainingSample } from '../policy/initial-model.js';
import type { StageFeatures } from '../policy/types.js';

export interface StageRecord {
  readonly appId: string;
  readonly stageId: number;
  readonly features: StageFeatures;
  /** The level the search settled on: the model's training label. */
  readonly level: number;
  readonly durationSeconds: number;
  readonly executorsUsed: number;
  readonly completedAtMs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS stage_history (
  app_id TEXT NOT NULL,
  stage_id INTEGER NOT NULL,
  features TEXT NOT NULL,
  level REAL NOT NULL,
  duration_seconds REAL NOT NULL,
  executors_used INTEGER NOT NULL,
  completed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (app_id, stage_id)
);
CREATE TABLE IF NOT EXISTS models (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at_ms INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  model TEXT NOT NULL
);
`;

export class HistoryStore {
  readonly #db: Database.Database;
  #closed = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(SCHEMA);
  }

  /** Idempotent per (app, stage): a re-reported completion replaces the earlier one. */
  recordStage(r: StageRecord): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO stage_history
         (app_id, stage_id, features, level, duration_seconds, executors_used, completed_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.appId,
        r.stageId,
        JSON.stringify(r.features),
        r.level,
        r.durationSeconds,
        r.executorsUsed,
        r.completedAtMs,
      );
  }

  stageCount(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM stage_history').get() as { n: number }).n;
  }

  samples(limit = 20_000): TrainingSample[] {
    const rows = this.#db
      .prepare('SELECT features, level FROM stage_history ORDER BY completed_at_ms DESC LIMIT ?')
      .all(limit) as { features: string; level: number }[];
    return rows.map((r) => ({ features: JSON.parse(r.features) as StageFeatures, level: r.level }));
  }

  saveModel(model: StumpModel, nowMs: number): void {
    this.#db
      .prepare('INSERT INTO models (created_at_ms, samples, model) VALUES (?, ?, ?)')
      .run(nowMs, model.samples, JSON.stringify(model));
  }

  latestModel(): StumpModel | undefined {
    const row = this.#db.prepare('SELECT model FROM models ORDER BY id DESC LIMIT 1').get() as
      { model: string } | undefined;
    return row ? (JSON.parse(row.model) as StumpModel) : undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
