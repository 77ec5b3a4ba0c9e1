// A typed use of GET /api/v2/analytics as a dashboard would write it, checked against the types
// generated from the OpenAPI schema (schema.d.ts, made by scripts/check_typescript.sh).
import type { paths } from "./schema";

type Operation = paths["/api/v2/analytics"]["get"];
type Query = NonNullable<Operation["parameters"]["query"]>;
type Analytics = Operation["responses"][200]["content"]["application/json"];

// clientId is required; campaignId, from and to are optional (default: the last 30 UTC days).
const lastMonth: Query = { clientId: "3f2b6a7e-0000-4000-8000-000000000002" };
const oneCampaignOneWeek: Query = {
  clientId: lastMonth.clientId,
  campaignId: "3f2b6a7e-0000-4000-8000-000000000001",
  from: "2026-03-01",
  to: "2026-03-07",
};
// @ts-expect-error -- the client is required
const noClient: Query = { from: "2026-03-01" };

function analyticsUrl(query: Query): string {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => !!entry[1]));
  return `/api/v2/analytics?${params.toString()}`;
}

function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 100)}%`;
}

function summarize(report: Analytics): string[] {
  const jobs = report.jobs;
  const finished: number = jobs.completed + jobs.partiallyCompleted;
  const lines = [
    `${report.clientId} from ${report.from} to ${report.to}`,
    `${jobs.started} started, ${finished} finished, ${jobs.failed} failed, ${jobs.cancelled} cancelled`,
    `approved ${percent(report.approvalRate)}, ${report.refinementsPerJob ?? "—"} refinements per job`,
    `median ${report.medianSecondsToApprove ?? "—"} s to approve, $${report.avgCostPerVideo ?? "—"} per video`,
  ];
  for (const campaign of report.costByCampaign) {
    const cost: number = campaign.cost;
    lines.push(`${campaign.name} (${campaign.campaignId}): ${campaign.videos} videos, $${cost}`);
  }
  const total: number = report.costByDay.reduce((sum, day) => sum + day.cost, 0);
  const days: string[] = report.costByDay.map((day) => day.date);
  lines.push(`$${total.toFixed(2)} over ${days.length} days`);
  const platforms: Record<Analytics["byPlatform"][number]["platform"], string> = {
    tiktok: "TikTok",
    meta: "Meta",
    youtube: "YouTube",
    custom: "Custom",
  };
  for (const row of report.byPlatform) {
    lines.push(`${platforms[row.platform]}: ${row.jobs} jobs, $${row.cost}`);
  }
  return lines;
}

export { analyticsUrl, lastMonth, noClient, oneCampaignOneWeek, summarize };
