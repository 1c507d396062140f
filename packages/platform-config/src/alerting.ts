/**
 * Where Alertmanager sends notifications: the URLs live in a Secret an operator creates by
 * hand in the monitoring namespace (never in Git), one key per severity. Alertmanager reads
 * each URL from the mounted file when it notifies (`url_file` / `api_url_file`), so a missing
 * Secret fails deliveries visibly (AlertmanagerFailedToSendAlerts) instead of the release.
 * See docs/runbooks/alert-receivers.md.
 */
export const ALERT_RECEIVER_SECRET = {
  name: 'alertmanager-receivers',
  keys: { critical: 'critical-url', warning: 'warning-url' },
} as const;
