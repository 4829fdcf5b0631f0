// What feeds the StrataTopic controller's queue: the StrataTopics themselves. A topic waiting for
// its cluster looks again on its own (TopicReconciler requeues it), and every synced topic is
// compared with the brokers every TOPIC_RESYNC_MS, so no other watch is needed.
import { GROUP, VERSION } from '../api/v1alpha1.js';
import { ownKey } from './cluster-controller.js';
import type { ControllerDefinition, ControllerWatch } from './manager.js';
import type { Reconcile } from './worker.js';

export const TOPIC_CONTROLLER = 'stratatopics';

export function topicWatches(): ControllerWatch[] {
  return [{ source: { apiVersion: `${GROUP}/${VERSION}`, kind: 'StrataTopic', plural: 'stratatopics' }, keys: ownKey }];
}

export function topicController(reconcile: Reconcile): ControllerDefinition {
  return { name: TOPIC_CONTROLLER, watches: topicWatches(), reconcile };
}
