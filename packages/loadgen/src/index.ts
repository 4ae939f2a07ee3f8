/**
 * @parley/loadgen: an XMPP / XEP-0045 load generator usable against any server. Simulated
 * clients over TCP c2s or WebSocket in worker threads; HDR latency histograms; exact
 * delivery accounting (every loss and duplicate); JSON and self-contained HTML reports.
 */
export { runScenario, applyOverrides, type RunOptions, type Progress } from './run-scenario.js';
export { parseScenario, parseScenarioText, loadScenarioFile, scenarioSchema, checkTarget, type Scenario, type ScenarioInput } from './scenario.js';
export type { LoadResult, TimelinePoint } from './result.js';
export { accountDeliveries, verdict, exitCodeFor, type Accounting, type AccountingInput, type VerdictInput } from './accounting.js';
export { DeliveryLedger, type RecordOutcome } from './delivery-ledger.js';
export { encodeStamp, decodeStamp, decodeStampAt, stampPrefix, type BodyStamp } from './body-stamp.js';
export { newHistogram, recordUs, encodeHistogram, decodeHistogram, mergeHistograms, summarize, HIGHEST_US, type LatencySummary, type Histogram } from './histogram.js';
export { nowUs, nowMs } from './clock.js';
export { StreamScanner, type ScannerEvents } from '@parley/client';
export { renderHtml } from './html-report.js';
export { formatProgress } from './progress-line.js';
export { Layout } from './layout.js';
export { LoadgenError, LOADGEN_ERRORS, type LoadgenErrorCode } from './errors.js';
