// /config.json: written at deployment in Azure, served by `make run` locally.
export interface AuthorityConfig {
  clientId: string;
  authority: string;
  scopes: string[];
}

export interface AppConfig {
  apiBaseUrl: string;
  signIn: 'dev' | 'entra';
  devTokenUrl?: string;
  staff?: AuthorityConfig;
  family?: AuthorityConfig;
  maxOfflineDays: number;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { cache: 'no-cache' });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  const config = (await response.json()) as Partial<AppConfig>;
  if (typeof config.apiBaseUrl !== 'string' || (config.signIn !== 'dev' && config.signIn !== 'entra')) {
    throw new Error('config.json names no API or sign-in.');
  }
  return { maxOfflineDays: 14, ...config } as AppConfig;
}
