export function findElectronBinary(projectRoot: string): string | null;
