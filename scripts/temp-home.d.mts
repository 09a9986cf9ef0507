export interface TempHomeEnv {
  HOME: string;
  XDG_CONFIG_HOME: string;
  XDG_STATE_HOME: string;
  XDG_DATA_HOME: string;
  XDG_CACHE_HOME: string;
  TOOLHIVE_NO_KEYRING: '1';
}
export declare function tempHomeEnv(root: string): TempHomeEnv;
