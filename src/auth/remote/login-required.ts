/**
 * Start of the status context of an `unauthenticated` workload whose OAuth login waits for the user;
 * the authorization URL follows. `thv run` and API clients show it to the user. Lives here, in the
 * auth layer that writes it; the workloads layer re-exports it for its readers.
 */
export const LOGIN_REQUIRED_CONTEXT = 'OAuth login required: open ';
