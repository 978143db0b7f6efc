import * as l10n from '@vscode/l10n';
import { Document, Node, isAlias, isMap, isScalar, parseAllDocuments } from 'yaml';
import { firstLine } from '../../util/text';
import { USE_LABEL } from '../manifest';
import { USE_IDENTITY_BINDING_ANNOTATION } from '../binding';

/** Kinds whose pod template Connect Workload edits, with the path to that template. */
const WORKLOAD_KINDS: Record<string, readonly string[] | undefined> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The path to a workload's pod template, or undefined for a kind that is not a workload. */
export function templatePath(kind: unknown): readonly string[] | undefined {
  return typeof kind === 'string' && Object.hasOwn(WORKLOAD_KINDS, kind) ? WORKLOAD_KINDS[kind] : undefined;
}

/** The path to the pod template of a kind already known to be a workload. */
export function workloadTemplate(kind: string): readonly string[] {
  const path = templatePath(kind);
  if (!path) throw new Error(`${kind} is not a workload kind`);
  return path;
}

/** A workload defined in a YAML file: which document, and what its pod template has now. */
export interface WorkloadInFile {
  /** Index of the document in the file (multi-document files). */
  index: number;
  kind: string;
  name: string;
  /** Absent when the file leaves it to the tool that applies it (kubectl -n, Kustomize). */
  namespace?: string;
  serviceAccountName?: string;
  labelled: boolean;
}

export class YamlEditError extends Error {
  override readonly name = 'YamlEditError';
}

/** Files this large are not edited: a manifest is rarely over a megabyte, and a 10 MB file is likely generated. */
export const MAX_EDIT_BYTES = 2 * 1024 * 1024;

function parse(text: string) {
  if (text.length > MAX_EDIT_BYTES)
    throw new YamlEditError(
      l10n.t(
        'The file is {0} MB; files over {1} MB are not edited.',
        (text.length / 1024 / 1024).toFixed(1),
        MAX_EDIT_BYTES / 1024 / 1024,
      ),
    );
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new YamlEditError(l10n.t('The file is not YAML.'));
  for (const d of docs) {
    const e = d.errors[0];
    if (e)
      throw new YamlEditError(
        l10n.t('The YAML is not valid at line {0}: {1}', e.linePos?.[0].line ?? '?', firstLine(e.message)),
      );
  }
  return docs;
}

/** The workloads the file defines, in order. Throws YamlEditError for a file that is not valid YAML. */
export function workloadsIn(text: string): WorkloadInFile[] {
  const out: WorkloadInFile[] = [];
  parse(stripBom(text)).forEach((doc, index) => {
    const kind = doc.get('kind');
    const template = templatePath(kind);
    if (typeof kind !== 'string' || !template) return;
    const spec = [...template, 'spec'];
    const sa = doc.getIn([...spec, 'serviceAccountName']) ?? doc.getIn([...spec, 'serviceAccount']);
    out.push({
      index,
      kind,
      name: String(doc.getIn(['metadata', 'name']) ?? ''),
      ...(doc.getIn(['metadata', 'namespace']) !== undefined
        ? { namespace: String(doc.getIn(['metadata', 'namespace'])) }
        : {}),
      ...(sa !== undefined ? { serviceAccountName: String(sa) } : {}),
      labelled: String(doc.getIn([...template, 'metadata', 'labels', USE_LABEL])) === 'true',
    });
  });
  return out;
}

interface Edit {
  from: number;
  to: number;
  text: string;
}

const stripBom = (t: string) => (t.startsWith('\uFEFF') ? t.slice(1) : t);

/**
 * Parses the file, takes the document at `index` (refused by `check` with its reason), lets `plan` compute edits on the
 * text without its byte-order mark, and applies them from the end: one place for the mark, the line ending and the
 * offsets.
 */
function editDocument<T>(
  text: string,
  index: number,
  check: (doc: Document | undefined) => T | string,
  plan: (w: { body: string; eol: string; doc: Document; checked: T }) => { edits: Edit[]; changes: string[] },
): { text: string; changes: string[] } {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = stripBom(text);
  const doc = parse(body)[index];
  const checked = check(doc);
  if (typeof checked === 'string' || !doc) throw new YamlEditError(String(checked));
  const { edits, changes } = plan({ body, eol: body.includes('\r\n') ? '\r\n' : '\n', doc, checked });
  let out = body;
  for (const e of [...edits].sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return { text: bom + out, changes };
}

/** editDocument for a workload: the plan gets its kind and the path to its pod template. */
function editWorkload(
  text: string,
  index: number,
  plan: (w: { body: string; eol: string; doc: Document; kind: string; template: string[] }) => {
    edits: Edit[];
    changes: string[];
  },
): { text: string; changes: string[] } {
  return editDocument(
    text,
    index,
    (doc) => {
      const kind = doc?.get('kind');
      const template = templatePath(kind);
      return typeof kind === 'string' && template
        ? { kind, template: [...template] }
        : l10n.t('Document {0} is not a workload.', index + 1);
    },
    ({ body, eol, doc, checked }) => plan({ body, eol, doc, ...checked }),
  );
}

/** A SecretProviderClass of the file: the identity it names and whether it gets its token through AKS's proxy. */
export interface SecretProviderClassInFile {
  index: number;
  name: string;
  namespace?: string;
  clientId?: string;
  proxied: boolean;
}

export function secretProviderClassesIn(text: string): SecretProviderClassInFile[] {
  const out: SecretProviderClassInFile[] = [];
  parse(stripBom(text)).forEach((doc, index) => {
    if (doc.get('kind') !== 'SecretProviderClass') return;
    const namespace = doc.getIn(['metadata', 'namespace']);
    const clientId = doc.getIn(['spec', 'parameters', 'clientID']);
    out.push({
      index,
      name: String(doc.getIn(['metadata', 'name']) ?? ''),
      ...(namespace !== undefined ? { namespace: String(namespace) } : {}),
      ...(clientId !== undefined ? { clientId: String(clientId) } : {}),
      proxied: String(doc.getIn(['spec', 'parameters', USE_AZURE_TOKEN_PROXY])) === 'true',
    });
  });
  return out;
}

/** The Azure provider's parameter that sends its token exchange through AKS's identity-binding proxy. */
export const USE_AZURE_TOKEN_PROXY = 'useAzureTokenProxy';
/** The change that sets it, as a review names it. */
export const TOKEN_PROXY_CHANGE = `spec.parameters.${USE_AZURE_TOKEN_PROXY}: "true"`;

/** Sets `spec.parameters.useAzureTokenProxy: "true"` on one SecretProviderClass, changing only that line. */
export function useTokenProxyInYaml(text: string, index: number): { text: string; changes: string[] } {
  return editDocument(
    text,
    index,
    (doc) =>
      doc?.get('kind') === 'SecretProviderClass' || l10n.t('Document {0} is not a SecretProviderClass.', index + 1),
    ({ body, eol, doc }) => {
      if (String(doc.getIn(['spec', 'parameters', USE_AZURE_TOKEN_PROXY])) === 'true')
        return { edits: [], changes: [] };
      const parameters = nodeAt(doc, ['spec', 'parameters']);
      if (!parameters) throw new YamlEditError(l10n.t('The SecretProviderClass has no spec.parameters.'));
      return {
        edits: [setKey(body, parameters, USE_AZURE_TOKEN_PROXY, '"true"', eol)],
        changes: [TOKEN_PROXY_CHANGE],
      };
    },
  );
}

/**
 * Sets `serviceAccountName` and the use label on one workload's pod template, changing only the lines that carry
 * them: comments, order, quoting, anchors and line endings elsewhere stay byte for byte. Returns the new text and
 * what changed (empty when already connected).
 */
export function connectInYaml(
  text: string,
  index: number,
  serviceAccount: string,
  viaIdentityBinding = false,
): { text: string; changes: string[] } {
  return editWorkload(text, index, ({ body, eol, doc, kind, template: templatePath }) => {
    const template = nodeAt(doc, templatePath);
    if (!template) throw new YamlEditError(l10n.t('{0} has no pod template at {1}.', kind, templatePath.join('.')));
    const spec = nodeAt(doc, [...templatePath, 'spec']);
    if (!spec) throw new YamlEditError(l10n.t('{0} has no {1}.spec.', kind, templatePath.join('.')));
    const edits: Edit[] = [];
    const changes: string[] = [];
    const current = doc.getIn([...templatePath, 'spec', 'serviceAccountName']);
    if (current !== serviceAccount) {
      edits.push(setKey(body, spec, 'serviceAccountName', serviceAccount, eol));
      changes.push(
        `${templatePath.join('.')}.spec.serviceAccountName: ${current === undefined ? '(unset)' : String(current)} → ${serviceAccount}`,
      );
    }
    const needLabel = String(doc.getIn([...templatePath, 'metadata', 'labels', USE_LABEL])) !== 'true';
    const needAnnotation =
      viaIdentityBinding &&
      String(doc.getIn([...templatePath, 'metadata', 'annotations', USE_IDENTITY_BINDING_ANNOTATION])) !== 'true';
    const metadata = nodeAt(doc, [...templatePath, 'metadata']);
    const labels = nodeAt(doc, [...templatePath, 'metadata', 'labels']);
    const annotations = needAnnotation ? nodeAt(doc, [...templatePath, 'metadata', 'annotations']) : undefined;
    const label = `${USE_LABEL}: "true"`;
    const annotation = `${USE_IDENTITY_BINDING_ANNOTATION}: "true"`;
    // Blocks that would go in the same place go in as one edit.
    const newBlocks = [
      ...(needLabel && !labels ? ['labels:', `  ${label}`] : []),
      ...(needAnnotation && !annotations ? ['annotations:', `  ${annotation}`] : []),
    ];
    if (needLabel && labels) edits.push(setKey(body, labels, USE_LABEL, '"true"', eol));
    if (needAnnotation && annotations)
      edits.push(setKey(body, annotations, USE_IDENTITY_BINDING_ANNOTATION, '"true"', eol));
    if (newBlocks.length)
      edits.push(
        metadata
          ? insertBlock(body, metadata, newBlocks, eol)
          : insertBlock(body, template, ['metadata:', ...newBlocks.map((l) => `  ${l}`)], eol),
      );
    if (needLabel) changes.push(`${templatePath.join('.')}.metadata.labels["${USE_LABEL}"]: "true"`);
    if (needAnnotation)
      changes.push(`${templatePath.join('.')}.metadata.annotations["${USE_IDENTITY_BINDING_ANNOTATION}"]: "true"`);
    return { edits, changes };
  });
}

/** The map at the path; an alias there cannot be edited in place without changing every other use of its anchor. */
function nodeAt(
  doc: Document,
  path: string[],
): (Node & { items: any[]; flow?: boolean; range: [number, number, number] }) | undefined {
  let node: any = doc.contents;
  for (const [i, key] of path.entries()) {
    if (isAlias(node))
      throw new YamlEditError(
        l10n.t(
          '{0} is an alias (*{1}): edit the anchor it refers to instead.',
          path.slice(0, i).join('.') || 'The document',
          node.source,
        ),
      );
    if (!isMap(node)) return undefined;
    const next = node.get(key, true);
    if (next === undefined) return undefined;
    // A pair without a value (`? key`) holds null itself, whatever the library's type says.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (next === null || (isScalar(next) && next.value === null))
      throw new YamlEditError(
        l10n.t(
          '{0} is present but empty: fill it in or remove it, then connect again.',
          path.slice(0, i + 1).join('.'),
        ),
      );
    node = next;
  }
  if (isAlias(node))
    throw new YamlEditError(
      l10n.t('{0} is an alias (*{1}): edit the anchor it refers to instead.', path.join('.'), node.source),
    );
  if (!isMap(node)) throw new YamlEditError(l10n.t('{0} is not a mapping.', path.join('.')));
  return node as any;
}

/** Replaces the value of `key` in the map, or adds the pair: above the map's first key, in its indentation. */
function setKey(
  text: string,
  map: { items: any[]; flow?: boolean; range: [number, number, number] },
  key: string,
  value: string,
  eol: string,
): Edit {
  const pair = map.items.find((p) => String(p.key?.value ?? p.key) === key);
  if (pair?.value?.range) return { from: pair.value.range[0], to: pair.value.range[1], text: value };
  if (pair) {
    // "key:" with no value: the value goes after the colon.
    const colon = text.indexOf(':', pair.key.range[1]);
    return { from: colon + 1, to: colon + 1, text: ` ${value}` };
  }
  if (map.flow || !map.items.length) {
    // A flow map ({app: a} or {}): rewrite that map, in flow style, with the key added.
    const obj = {
      ...Object.fromEntries(map.items.map((p) => [String(p.key?.value ?? p.key), p.value?.toJSON?.() ?? p.value])),
      [key]: value.replace(/^"|"$/g, ''),
    };
    return {
      from: map.range[0],
      to: map.range[1],
      text: new Document(obj).toString({ collectionStyle: 'flow', lineWidth: 0 }).trim(),
    };
  }
  return insertBlock(text, map, [`${key}: ${value}`], eol);
}

/**
 * Inserts lines above the map's first key, in its indentation, and above the comment lines directly over that key:
 * they describe the key, so they stay with it.
 */
function insertBlock(
  text: string,
  map: { items: any[]; range: [number, number, number] },
  lines: string[],
  eol: string,
): Edit {
  const first = map.items[0]?.key?.range?.[0];
  if (first === undefined) throw new YamlEditError(l10n.t('The mapping to edit is empty or not in block style.'));
  const lineStart = text.lastIndexOf('\n', first - 1) + 1;
  const indent = text.slice(lineStart, first);
  // "- name: x" (a map inside a sequence entry) or a key after other text on its line: no plain indentation to copy.
  if (!/^ *$/.test(indent))
    throw new YamlEditError(
      l10n.t(
        'The mapping at line {0} does not start its own line: edit it by hand.',
        text.slice(0, first).split('\n').length,
      ),
    );
  let at = lineStart;
  for (;;) {
    const previous = text.lastIndexOf('\n', at - 2) + 1;
    if (at === 0 || !/^[ \t]*#[^\n]*\n$/.test(text.slice(previous, at))) break;
    at = previous;
  }
  return { from: at, to: at, text: lines.map((l) => `${indent}${l}${eol}`).join('') };
}

export const SECRETS_STORE_VOLUME = 'secrets-store';
export const SECRETS_STORE_MOUNT = '/mnt/secrets-store';

/**
 * Mounts a SecretProviderClass in the workload: a csi volume on the pod template and a read-only mount on its first
 * container, appended in the file's own indentation. Only added lines change; a volume already named secrets-store is
 * left as it is.
 */
export function mountSecretsStoreInYaml(
  text: string,
  index: number,
  secretProviderClass: string,
): { text: string; changes: string[] } {
  return editWorkload(text, index, ({ body, eol, doc, kind, template: t }) => {
    const spec = nodeAt(doc, [...t, 'spec']);
    if (!spec) throw new YamlEditError(l10n.t('{0} has no {1}.spec.', kind, t.join('.')));
    const containers: any = doc.getIn([...t, 'spec', 'containers'], true);
    const container = containers?.items?.[0];
    if (!isMap(container) || (container as any).flow)
      throw new YamlEditError(
        l10n.t(
          '{0} has no container in block style at {1}.spec.containers to mount the secrets in.',
          kind,
          t.join('.'),
        ),
      );
    const edits: Edit[] = [];
    const changes: string[] = [];
    const volumeItem = [
      'name: ' + SECRETS_STORE_VOLUME,
      'csi:',
      '  driver: secrets-store.csi.k8s.io',
      '  readOnly: true',
      '  volumeAttributes:',
      `    secretProviderClass: ${secretProviderClass}`,
    ];
    const mountItem = [`name: ${SECRETS_STORE_VOLUME}`, `mountPath: ${SECRETS_STORE_MOUNT}`, 'readOnly: true'];
    const named = (seq: any) => (seq?.items ?? []).some((i: any) => isMap(i) && i.get('name') === SECRETS_STORE_VOLUME);
    const volumes: any = doc.getIn([...t, 'spec', 'volumes'], true);
    if (!named(volumes)) {
      edits.push(
        volumes?.items?.length
          ? appendItem(body, volumes, volumeItem, eol)
          : appendLines(body, spec, ['volumes:', ...asItem(volumeItem).map((l) => `  ${l}`)], eol),
      );
      changes.push(
        `${t.join('.')}.spec.volumes: + ${SECRETS_STORE_VOLUME} (csi, secretProviderClass ${secretProviderClass})`,
      );
    }
    const mounts: any = (container as any).get('volumeMounts', true);
    if (!named(mounts)) {
      edits.push(
        mounts?.items?.length
          ? appendItem(body, mounts, mountItem, eol)
          : appendLines(body, container as any, ['volumeMounts:', ...asItem(mountItem).map((l) => `  ${l}`)], eol),
      );
      changes.push(
        `${t.join('.')}.spec.containers[0].volumeMounts: + ${SECRETS_STORE_VOLUME} at ${SECRETS_STORE_MOUNT} (read-only)`,
      );
    }
    return { edits, changes };
  });
}

const asItem = (lines: string[]) => lines.map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`));
const columnOf = (text: string, offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
/** The start of the line after the one where `offset` is. */
const nextLine = (text: string, offset: number) => {
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl + 1;
};
/** Where a node's own text ends: a collection's range runs on over the line breaks and indentation after it. */
const endOf = (text: string, node: any): number => {
  let e: number = node.range?.[1] ?? node.range?.[0];
  while (e > 0 && /\s/.test(text.charAt(e - 1))) e--;
  return e - 1;
};

/** Lines after a block map's last pair, in the column of its keys. */
function appendLines(text: string, map: any, lines: string[], eol: string): Edit {
  if (map.flow) throw new YamlEditError(l10n.t('The mapping to extend is in flow style ({...}): edit it by hand.'));
  const first = map.items[0]?.key?.range?.[0];
  const last = map.items[map.items.length - 1];
  if (first === undefined || !last) throw new YamlEditError(l10n.t('The mapping to extend is empty.'));
  const at = nextLine(text, endOf(text, last.value ?? last.key));
  const lead = text.length === at && !text.endsWith('\n') ? eol : '';
  return { from: at, to: at, text: lead + lines.map((l) => `${' '.repeat(columnOf(text, first))}${l}${eol}`).join('') };
}

/** An item after a block sequence's last one, with its dash in the same column. */
function appendItem(text: string, seq: any, lines: string[], eol: string): Edit {
  if (seq.flow || !seq.items.length)
    throw new YamlEditError(l10n.t('The list to extend is empty or in flow style ([...]): edit it by hand.'));
  const firstItem = seq.items[0];
  const dash = text.lastIndexOf('-', firstItem.range[0]);
  const at = nextLine(text, endOf(text, seq.items[seq.items.length - 1]));
  const lead = text.length === at && !text.endsWith('\n') ? eol : '';
  return {
    from: at,
    to: at,
    text:
      lead +
      asItem(lines)
        .map((l) => `${' '.repeat(columnOf(text, dash))}${l}${eol}`)
        .join(''),
  };
}

/** Adds `- path: <file>` to a kustomization's `patches:` (creating the list when there is none), only added lines. */
export function addPatchEntry(text: string, file: string): string {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = stripBom(text);
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const doc = parse(body)[0];
  if (!doc || !isMap(doc.contents)) throw new YamlEditError(l10n.t('The kustomization is not a mapping.'));
  const patches: any = doc.get('patches', true);
  if (patches && !patches.items) throw new YamlEditError(l10n.t("The kustomization's patches is not a list."));
  const e = patches
    ? appendItem(body, patches, [`path: ${file}`], eol)
    : appendLines(body, doc.contents, ['patches:', `  - path: ${file}`], eol);
  return bom + body.slice(0, e.from) + e.text + body.slice(e.to);
}
