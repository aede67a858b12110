/**
 * The ingest API's routes under /api/v1/ (handed to apiV1Routes, backend/auth/api-keys-route.ts, which answers the
 * rest of /api/v1/): POST /api/v1/reports (reports.ts) and GET /api/v1/openapi.json (openapi.ts; no key needed:
 * the document is what a source system reads before it has one).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_V1_OPENAPI_PATH, API_V1_REPORTS_PATH, type LonLat } from '../../protocol';
import { send } from '../http-answers';
import { AddressPlacer } from './locate';
import { openApiDocument } from './openapi';
import { reportRoute, type ReportRouteOptions } from './reports';

export interface IngestRoutesOptions extends Omit<ReportRouteOptions, 'placer'> {
  locate(location: LonLat): { gridId: string; districtId: string } | null;
}

export function ingestRoutes(o: IngestRoutesOptions): Record<string, (req: IncomingMessage, res: ServerResponse) => void> {
  const placer = new AddressPlacer(o.state, o.locate);
  return {
    [API_V1_REPORTS_PATH]: reportRoute({ ...o, placer }),
    [API_V1_OPENAPI_PATH]: (req, res) => {
      req.resume();
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return send(res, 405, { code: 'method-not-allowed', message: `${API_V1_OPENAPI_PATH} 只接受 GET / only GET` });
      }
      send(res, 200, openApiDocument());
    },
  };
}
