import { DEFAULT_GROUP, LIST_GROUPS_HINT, type Group } from './groups.js';
import type { WorkloadManager } from './manager.js';

export interface GroupInfo extends Group {
  workloads: string[];
}

/** Groups with their workloads, for `thv group …` and `/api/v1beta/groups`. */
export class GroupService {
  constructor(private readonly workloads: WorkloadManager) {}

  async create(name: string): Promise<Group> {
    return this.workloads.groups.create(name);
  }

  async list(): Promise<GroupInfo[]> {
    const [groups, all] = await Promise.all([this.workloads.groups.list(), this.workloads.list({ all: true })]);
    return groups.map((g) => ({ ...g, workloads: all.filter((w) => w.group === g.name).map((w) => w.name) }));
  }

  async get(name: string): Promise<GroupInfo> {
    const group = await this.workloads.groups.require(name, LIST_GROUPS_HINT);
    const all = await this.workloads.list({ all: true, group: name });
    return { ...group, workloads: all.map((w) => w.name) };
  }

  /** Removes the group; its workloads are removed too, or moved to the default group. */
  async remove(name: string, options: { withWorkloads: boolean }): Promise<void> {
    await this.workloads.groups.requireRemovable(name);
    for (const workload of await this.workloads.list({ all: true, group: name })) {
      if (options.withWorkloads) await this.workloads.remove(workload.name);
      else await this.workloads.moveToGroup(workload.name, DEFAULT_GROUP);
    }
    await this.workloads.groups.remove(name);
  }
}
