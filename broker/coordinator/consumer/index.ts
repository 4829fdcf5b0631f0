// The consumer group protocol (KIP-848): what the rest of the broker imports from this folder.
export {
  ALL_GROUP_OPERATIONS,
  CONSUMER_GROUP_STATES,
  type ClassicGroupsView,
  type ClientInfo,
  type ConsumerGroupListing,
  type ConsumerGroupSnapshot,
  type ConsumerGroupState,
  ConsumerGroups,
  type ConsumerGroupsOptions,
  JOIN_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  randomMemberId,
} from './consumer-groups.js';
export * from './records.js';
export { type Assignment, type TopicPartitionsList, assignmentFromList, assignmentToList } from './assignment.js';
export { type AssignorInput, type AssignorMember, type GroupAssignment, type ServerAssignor, SERVER_ASSIGNORS, rangeAssignor, uniformAssignor } from './assignors.js';
export { GroupErrorCode } from './errors.js';
export { TOPIC_REGEX_LIMITS, type TopicRegex, compileTopicRegex } from './regex.js';
