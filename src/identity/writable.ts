// Pure check: could a given user write to a file or directory, judged by owner/group/other mode
// bits (root can always write). Used to refuse image/tenant soul layers the agent could tamper with.
export interface Principal {
  uid: number;
  gids: readonly number[];
}

export interface OwnedMode {
  uid: number;
  gid: number;
  mode: number;
}

export function writableBy(st: OwnedMode, who: Principal): boolean {
  if (who.uid === 0) return true;
  if (st.uid === who.uid) return (st.mode & 0o200) !== 0;
  if (who.gids.includes(st.gid)) return (st.mode & 0o020) !== 0;
  return (st.mode & 0o002) !== 0;
}
