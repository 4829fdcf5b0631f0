// Response bodies for the classic group APIs, and their fitting to the version asked for.
//
// Inside this folder a response is built once, version-free, the way Kafka's coordinator builds it;
// `fitJoin`/`fitSync`/... then apply the per-version rules Kafka's response classes apply, so the
// generated encoders never see a field the version cannot carry:
//   - JoinGroup: the protocol name is a non-null string before v7 ("" when none), and null rather
//     than "" from v7 on; skipAssignment exists from v9 only.
//   - LeaveGroup: v0-2 answer one error code (the top-level one, else the first member's); v3+
//     answer per member.
//   - DescribeGroups: the error message exists from v6 only.
//   - ListGroups: the state exists from v4, the type from v5.

import type * as G from '../../protocol/generated/index.js';
import { ClassicErrorCode } from './errors.js';

const EMPTY = Buffer.alloc(0);

export function joinError(errorCode: number, memberId: string): G.JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): G.SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export function fitJoin(r: G.JoinGroupResponse, version: number): G.JoinGroupResponse {
  const out: G.JoinGroupResponse = { ...r };
  if (version < 7 && out.protocolName === null) out.protocolName = '';
  if (version >= 7 && out.protocolName === '') out.protocolName = null;
  if (version < 7) out.protocolType = null;
  if (version < 9) out.skipAssignment = false;
  if (version < 5) out.members = out.members.map((m) => ({ ...m, groupInstanceId: null }));
  return out;
}

export function fitSync(r: G.SyncGroupResponse, version: number): G.SyncGroupResponse {
  if (version >= 5) return r;
  return { ...r, protocolType: null, protocolName: null };
}

export function fitLeave(errorCode: number, members: G.LeaveGroupResponseMemberResponse[], version: number): G.LeaveGroupResponse {
  if (version >= 3) return { throttleTimeMs: 0, errorCode, members };
  let code = errorCode;
  if (code === ClassicErrorCode.NONE) code = members.find((m) => m.errorCode !== ClassicErrorCode.NONE)?.errorCode ?? ClassicErrorCode.NONE;
  return { throttleTimeMs: 0, errorCode: code, members: [] };
}

export function fitDescribed(g: G.DescribeGroupsResponseDescribedGroup, version: number): G.DescribeGroupsResponseDescribedGroup {
  const out = { ...g };
  if (version < 6) out.errorMessage = null;
  if (version < 4) out.members = out.members.map((m) => ({ ...m, groupInstanceId: null }));
  return out;
}

export function fitListed(g: G.ListGroupsResponseListedGroup, version: number): G.ListGroupsResponseListedGroup {
  const out = { ...g };
  if (version < 4) out.groupState = '';
  if (version < 5) out.groupType = '';
  return out;
}
