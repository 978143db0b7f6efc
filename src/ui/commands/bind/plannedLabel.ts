import * as vscode from 'vscode';
import type { StepRecord } from '../../../workloadIdentity/bind/model';

/** How a review line of Bind's plan begins: what the step will do. */
export const plannedLabel = (planned: StepRecord['planned']) =>
  ({
    create: vscode.l10n.t('$(add) Create'),
    update: vscode.l10n.t('$(edit) Change'),
    unchanged: vscode.l10n.t('$(pass) In place'),
    blocked: vscode.l10n.t('$(error) Blocked'),
  })[planned];
