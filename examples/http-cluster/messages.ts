/** The messages of the http-cluster example. */
export interface ToWorker {
  /** The primary asks a worker for its figures. */
  stats: { payload: void; reply: { served: number; pid: number } };
}

export interface ToPrimary {
  /** A worker reports a served request; the reply is the cluster-wide count. */
  requestServed: { payload: { path: string }; reply: number };
}
