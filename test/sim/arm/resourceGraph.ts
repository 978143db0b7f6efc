/** Microsoft.ResourceGraph: the resources query, within its documented form and the user's quota. */
import { createHash } from 'node:crypto';
import { HttpError, Reply, RequestContext, Route } from '../http';
import { fail, subOf, resourcesBySubscription, re, ArmKit } from './common';

export const graphError = (message: string, detail: string) => ({
  error: { code: 'BadRequest', message, details: [{ code: 'InvalidQuery', message: detail }] },
});
export const badQuery = (detail: string): never => {
  throw new HttpError(
    400,
    graphError(
      'Please provide below info when asking for support: timestamp, correlation id. Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.',
      detail,
    ),
  );
};

/**
 * Evaluates the part of Resource Graph's KQL this simulator supports: `resources`, `where type in~ (...)` or
 * `type =~ '...'`, `project` of columns, `alias = properties.a.b` and `alias = isnotnull(...)`, and `order by`.
 * Everything else is refused, naming the rule, so the product cannot come to rely on a form that the service does
 * not document for its use: `summarize` is "simplified first page only" (its results are not paged),
 * `pack_all()`/`make_list()` are not in the documented function list, and `limit`/`take` do not work with `$skip`.
 */
export function evaluateGraphQuery(query: string, rows: any[], opts: { skip?: boolean } = {}): any[] {
  const [table, ...ops] = query.split('|').map((x) => x.trim());
  if (!/^resources$/i.test(table))
    badQuery(`The simulated Resource Graph evaluates only the 'resources' table, not '${table}'.`);
  let out = rows;
  for (const op of ops) {
    const word = /^(\w+)(?:\s+by\b)?/i.exec(op)?.[0].toLowerCase().replace(/\s+/, ' ') ?? '';
    if (/\bpack_all\s*\(|\bmake_list\s*\(/i.test(op))
      badQuery(
        "pack_all() and make_list() are not in Resource Graph's documented functions, and their row sizes are not documented.",
      );
    switch (word) {
      case 'where': {
        const inList = /^where\s+type\s+in~\s*\(([^)]*)\)$/i.exec(op);
        const eq = /^where\s+type\s+=~\s*'([^']*)'$/i.exec(op);
        if (!inList && !eq)
          badQuery(
            `The simulated Resource Graph evaluates only "where type in~ (...)" and "where type =~ '...'", not "${op}".`,
          );
        const types = inList
          ? [...inList[1].matchAll(/'([^']*)'/g)].map((m) => m[1].toLowerCase())
          : [eq![1].toLowerCase()];
        out = out.filter((r) => types.includes(String(r.type).toLowerCase()));
        break;
      }
      case 'project': {
        const items = op
          .slice('project'.length)
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        const path = (row: any, p: string) => p.split('.').reduce((v, k) => (v == null ? undefined : v[k]), row);
        const columns = items.map((item) => {
          const m = /^(\w+)\s*=\s*(.+)$/.exec(item);
          const expr = (m ? m[2] : item).trim();
          const nn = /^isnotnull\(([\w.]+)\)$/.exec(expr);
          if (!nn && !/^[\w.]+$/.test(expr))
            badQuery(
              `The simulated Resource Graph evaluates only columns, property paths and isnotnull() in project, not "${expr}".`,
            );
          return {
            name: m ? m[1] : item,
            get: (row: any) => (nn ? path(row, nn[1]) != null : (path(row, expr) ?? null)),
          };
        });
        out = out.map((row) => Object.fromEntries(columns.map((c) => [c.name, c.get(row)])));
        break;
      }
      case 'order by':
      case 'sort by': {
        const keys = op
          .replace(/^(order|sort)\s+by\s+/i, '')
          .split(',')
          .map((k) => {
            const m = /^(\w+)(?:\s+(asc|desc))?$/i.exec(k.trim());
            if (!m) badQuery(`Cannot order by "${k.trim()}".`);
            return { col: m![1], dir: m![2]?.toLowerCase() === 'asc' ? 1 : -1 }; // KQL's default order is descending
          });
        out = [...out].sort((a, b) => {
          for (const k of keys) {
            const x = String(a[k.col] ?? ''),
              y = String(b[k.col] ?? '');
            if (x !== y) return (x < y ? -1 : 1) * k.dir;
          }
          return 0;
        });
        break;
      }
      case 'summarize':
        badQuery(
          'summarize results are "simplified first page only" in Resource Graph: they are not paged, so rows past the first page are lost.',
        );
        break;
      case 'limit':
      case 'take':
        if (opts.skip) badQuery(`${word} does not work with $skip.`);
        out = out.slice(0, Number(/\d+/.exec(op)?.[0] ?? 0));
        break;
      default:
        badQuery(`The simulated Resource Graph does not evaluate "${op}".`);
    }
  }
  return out;
}

export function resourceGraphRoutes(kit: ArmKit): Route[] {
  const { state, config, now, claimsOf, ok, settle } = kit;
  const graphRow = (id: string, res: any, sub: string, tenants: Map<string, string>) => ({
    id: res.id,
    name: res.name,
    type: String(res.type).toLowerCase(),
    location: res.location,
    tenantId: tenants.get(sub),
    resourceGroup: /resourceGroups\/([^/]+)/i.exec(id)?.[1]?.toLowerCase(),
    subscriptionId: sub,
    properties: res.properties,
    tags: res.tags ?? {},
  });
  /** The user's quota: every answer carries what is left and when it resets; past it, 429 with Retry-After. */
  const spendGraphQuota = (req: RequestContext): Record<string, string> => {
    const user = claimsOf(req).oid;
    const t = now();
    let q = state.graphQuota.get(user);
    if (!q || t - q.windowStart >= config.graphQuotaWindowMs)
      state.graphQuota.set(user, (q = { windowStart: t, used: 0 }));
    const resetsMs = q.windowStart + config.graphQuotaWindowMs - t;
    const s = Math.ceil(resetsMs / 1000);
    const headers = {
      'x-ms-user-quota-remaining': String(Math.max(0, config.graphQuota - q.used - 1)),
      'x-ms-user-quota-resets-after': `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`,
    };
    if (q.used >= config.graphQuota) {
      throw new HttpError(
        429,
        {
          error: {
            code: 'RateLimiting',
            message:
              'Please provide below info when asking for support: timestamp, correlation id. Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed.',
          },
        },
        { ...headers, 'x-ms-user-quota-remaining': '0', 'Retry-After': String(Math.max(1, s)) },
      );
    }
    q.used++;
    return headers;
  };
  const queryResources = (req: RequestContext): Reply => {
    const quotaHeaders = spendGraphQuota(req);
    const body = req.json();
    const subs: string[] = body.subscriptions ?? [];
    if (typeof body.query !== 'string' || !body.query.trim()) fail(400, 'BadRequest', 'The query is required.');
    if (subs.length > 1000) fail(400, 'BadRequest', 'A query can name at most 1000 subscriptions.');
    const claims = claimsOf(req);
    const visible = new Set(
      state.subscriptions.filter((s) => s.tenantId === claims.tid).map((s) => s.subscriptionId.toLowerCase()),
    );
    const scope = new Set(
      (subs.length ? subs : [...visible]).map((s) => s.toLowerCase()).filter((s) => visible.has(s)),
    );
    const all: any[] = [];
    const tenants = new Map(state.subscriptions.map((s) => [s.subscriptionId, s.tenantId]));
    // A scale world has 40,000 resources and a query reads a few subscriptions: read them through the index.
    const index = resourcesBySubscription(state);
    for (const sub of scope) {
      for (const c of index.clusters.get(sub) ?? []) {
        settle(c);
        all.push(graphRow(c.resource.id, c.resource, subOf(c.resource.id), tenants));
      }
      for (const [id, v] of index.vaults.get(sub) ?? []) all.push(graphRow(id, v, subOf(id), tenants));
    }
    for (const [id, r] of state.identities)
      if (scope.has(subOf(id).toLowerCase())) all.push(graphRow(id, r.resource, subOf(id), tenants));
    const opts = body.options ?? {};
    const rows = evaluateGraphQuery(body.query, all, { skip: opts.$skip !== undefined });
    if (opts.$top !== undefined && !(Number(opts.$top) >= 1 && Number(opts.$top) <= 1000))
      badQuery('$top must be between 1 and 1000.');
    const top = Number(opts.$top ?? 100);
    let skip = Number(opts.$skip ?? 0);
    if (opts.$skipToken) {
      try {
        skip = JSON.parse(Buffer.from(opts.$skipToken, 'base64').toString('utf8')).skip;
      } catch {
        fail(400, 'BadRequest', 'The $skipToken is invalid.');
      }
    }
    let data = rows.slice(skip, skip + top);
    if (req.faults.some((f) => f.kind === 'malformedRows')) {
      const bySub = new Map<string, any[]>();
      for (const r of data) bySub.set(r.subscriptionId, [...(bySub.get(r.subscriptionId) ?? []), r]);
      data = [...bySub].map(([subscriptionId, resources]) => ({ subscriptionId, resources }));
    }
    const next =
      skip + top < rows.length
        ? Buffer.from(
            JSON.stringify({ skip: skip + top, q: createHash('sha1').update(body.query).digest('hex') }),
          ).toString('base64')
        : undefined;
    return ok(
      {
        totalRecords: rows.length,
        count: data.length,
        resultTruncated: 'false',
        facets: [],
        data,
        ...(next ? { $skipToken: next } : {}),
      },
      200,
      quotaHeaders,
    );
  };

  return [
    {
      method: 'POST',
      pattern: re('/providers/Microsoft\\.ResourceGraph/resources'),
      op: 'resources.query',
      handle: queryResources,
    },
  ];
}
