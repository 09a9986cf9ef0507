import pkg from '../../package.json' with { type: 'json' };

export const THV_VERSION: string = pkg.version;
