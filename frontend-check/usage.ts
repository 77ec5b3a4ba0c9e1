// A typed use of the v2 flow as the Next.js frontend writes it, checked against the TypeScript
// types generated from the OpenAPI schema (schema.d.ts, made by scripts/check_typescript.sh).
// If a field the frontend relies on is renamed, retyped or dropped from the schema, `tsc` fails here.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
type JsonResponse<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { "application/json": infer R } } };
}
  ? R
  : never;

// --- POST /api/v2/generate ---------------------------------------------------------------------
type GenerateBody = JsonBody<"/api/v2/generate", "post">;
type Accepted = JsonResponse<"/api/v2/generate", "post", 202>;

const generate: GenerateBody = {
  campaignId: "3f2b6a7e-0000-4000-8000-000000000001",
  clientId: "3f2b6a7e-0000-4000-8000-000000000002",
  videoName: "Spring launch",
  creativePrompt: "A runner at dawn, then the shoe close-up, then the finish line crowd",
  duration: 30,
  platform: "tiktok",
  aspectRatio: "9:16",
  numberOfVariations: 2,
  keywords: ["speed"],
  stylePresets: ["hd", "cinematic"],
  assets: [{ id: "3f2b6a7e-0000-4000-8000-000000000003", role: "logo" }],
  audioControls: {
    musicStyle: "upbeat",
    volume: 0.6,
    muted: false,
    voiceover: { enabled: true, script: "Lace up at dawn. Own the city.", voice: "joe" },
  },
  exportFormats: ["mp4", "gif", "webm"],
  captions: true,
  callbackUrl: "https://hooks.example.com/videogen",
};
// A voiceover without a script reads the scenes' narration and the CTA.
const narrated: GenerateBody["audioControls"] = { voiceover: { enabled: true } };
// Only the required fields: defaults (numberOfVariations, aspectRatio...) may be left out.
const minimal: GenerateBody = {
  campaignId: generate.campaignId,
  clientId: generate.clientId,
  videoName: "Minimal",
  creativePrompt: "Three scenes of a shoe",
  duration: 15,
  platform: "meta",
};
// @ts-expect-error -- 45 s is not a duration the API offers
const wrongDuration: GenerateBody = { ...minimal, duration: 45 };

function afterGenerate(accepted: Accepted): string {
  const cost: number = accepted.estimatedCost;
  const total: number = accepted.costBreakdown.total;
  const onReplicate: number = accepted.costBreakdown.replicateEquivalent;
  const speech: number = accepted.costBreakdown.voiceover;
  return `/api/v2/jobs/${accepted.job_id} (${cost}/${total}, ${speech} voice; Replicate ${onReplicate}), poll in ${accepted.pollAfter}s`;
}

// --- GET /api/v2/jobs/{job_id}: the job document ------------------------------------------------
type Job = JsonResponse<"/api/v2/jobs/{job_id}", "get", 200>;
type JobStatus = Job["status"];

const everyStatus: Record<JobStatus, string> = {
  generating_storyboard: "Building the storyboard",
  needs_clarification: "We need a few answers",
  storyboard_complete: "Review the storyboard",
  generating_video: "Rendering",
  completed: "Done",
  partially_completed: "Done, with some variations missing",
  failed: "Failed",
  cancelled: "Cancelled",
  stalled: "Stalled",
};

function describe(job: Job): string[] {
  const lines = [`#${job.job_id} ${everyStatus[job.status]} ${job.progress.percentage}% (${job.progress.stage})`];
  if (job.progress.estimatedTimeRemaining !== null) {
    lines.push(`about ${job.progress.estimatedTimeRemaining}s left, spent $${job.progress.cost}`);
  }
  const planner: "llm" | "rules" | null = job.planner;
  lines.push(`planned by ${planner ?? "nobody yet"}`);
  for (const scene of job.storyboard) {
    const image: string | null = scene.imageUrl;
    const onScreen: string = scene.caption;
    const spokenLine: string = scene.narration;
    lines.push(`scene ${scene.sceneNumber} @${scene.timestamp}s for ${scene.duration}s: ${scene.description} ${image ?? ""}`);
    lines.push(`  [${scene.role}] "${onScreen}" / ${spokenLine || "(no narration)"}`);
    scene.hookVariants.forEach((opening, i) => {
      const caption: string = opening.caption;
      const narration: string = opening.narration;
      lines.push(`  variation ${i + 2} opens with "${caption}" / ${narration}`);
    });
  }
  for (const variation of job.results.variations) {
    const seconds: number | null = variation.durationSeconds;
    lines.push(`variation ${variation.index} ${variation.status} ${variation.videoUrl ?? "-"} ${seconds ?? ""}`);
  }
  const gif: string | null = job.results.exports.gif;
  if (gif) lines.push(gif);
  if (job.clarification) lines.push(...job.clarification.questions);
  if (job.voiceover) {
    const spoken: number | null = job.voiceover.seconds;
    lines.push(`voice ${job.voiceover.voice}: "${job.voiceover.script}" ${spoken ?? "not spoken yet"}`);
  }
  if (job.error) lines.push(job.error);
  lines.push(`poll again in ${job.pollAfter}s; $${job.estimatedCost} estimated, $${job.actualCost} spent`);
  return lines;
}

// --- Live updates: the job document's signed eventsUrl opens its Server-Sent Events stream -------
// (EventSource sends no Authorization header); each `job` event's data is the same job document.
type EventsPath = paths["/api/v2/jobs/{job_id}/events"]["get"];
type StreamContent = EventsPath["responses"][200]["content"];
const streamType: keyof StreamContent = "text/event-stream";
function follow(job: Job, onJob: (next: Job) => void): { url: string; callbackUrl: string | null; open: () => void } {
  const url: string = job.eventsUrl;
  const callbackUrl: string | null = job.callbackUrl;
  const open = () => {
    const source = new EventSource(url);
    source.addEventListener("job", (event: MessageEvent<string>) => onJob(JSON.parse(event.data) as Job));
  };
  return { url, callbackUrl, open };
}
// @ts-expect-error -- every job document has its eventsUrl
const noEvents: Job["eventsUrl"] = null;

// --- POST /api/v2/jobs/{job_id}/refine ----------------------------------------------------------
type RefineBody = JsonBody<"/api/v2/jobs/{job_id}/refine", "post">;
const refineScenes: RefineBody = { scenes: [2, 3], creativePrompt: "Warmer light in scene 2" };
const refineAll: RefineBody = {};
// Caption and narration edits change text only; a new description regenerates that scene's image.
const editScenes: RefineBody = {
  sceneEdits: [
    { sceneNumber: 2, caption: "Own the night" },
    { sceneNumber: 3, narration: "Pause. Breathe. Go again." },
    { sceneNumber: 4, description: "The runner crosses a bridge at sunrise" },
  ],
};
// @ts-expect-error -- every scene edit names its scene
const editWithoutScene: RefineBody = { sceneEdits: [{ caption: "Own the night" }] };
// @ts-expect-error -- scene numbers are numbers
const badRefine: RefineBody = { scenes: ["2"] };

// --- errors --------------------------------------------------------------------------------------
type ApiError = Schemas["Error"];
function explain(error: ApiError): string {
  const fields = Object.entries(error.fields ?? {}).map(([name, messages]) => `${name}: ${messages.join(" ")}`);
  return [error.code, error.detail, ...fields].join("\n");
}

export {
  afterGenerate, badRefine, describe, editScenes, editWithoutScene, explain, follow, generate, minimal, narrated,
  noEvents, refineAll, refineScenes, streamType, wrongDuration,
};
