/** The renderer's data layer: shared rows (one subscription per selection per window) and the one command path. */
export { useRowsStore, selectionKey, type RowsQuery, type Stop } from './rows';
export { send } from './commands';
export { attachmentUrl, probeAttachment, uploadAttachment } from './attachments';
