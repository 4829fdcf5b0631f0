// The classic group protocol: see classic-groups.ts.
export {
  CLASSIC_GROUP_TYPE,
  CLASSIC_MEMBERS_MAX_DEFAULT,
  ClassicGroups,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  type ClassicGroupFacts,
  type ClassicGroupSnapshot,
  type ClassicGroupsListener,
  type ClassicGroupsOptions,
  type ClientInfo,
} from './classic-groups.js';
export { CLASSIC_GROUP_STATES, type ClassicGroupState } from './group.js';
export { ClassicErrorCode, appendErrorToResponseError } from './errors.js';
export { CONSUMER_PROTOCOL_TYPE, subscribedTopicsOf } from './subscription.js';
