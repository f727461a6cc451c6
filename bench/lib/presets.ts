// Data set presets for the benchmarks. `quick` runs end to end in a minute or two; `large` is the scale the
// performance targets are stated for (5 million messages, 100k users, a user in 1,000 chats, a 10,000-member channel).

export interface Preset {
  name: string;
  /** Parameters of bench.generate (sql/bench/01_generate.sql). */
  data: {
    seed: number;
    users: number;
    direct_chats: number;
    groups: number;
    channel_members: number;
    channel_admins: number;
    hot_members: number;
    deep_members: number;
    hub_chats: number;
    messages: number;
    deep_messages: number;
    channel_messages: number;
    hot_messages: number;
    reaction_rate: number;
    deleted_rate: number;
  };
  /** How much work each benchmark does. */
  work: {
    /** Sends per send workload at 8 clients (each of naive, send_message and bare insert). */
    sends: number;
    /** The same at 1 client (the 10k channel vs 2-member comparison comes from these rows). */
    fanoutSends: number;
    reads: number;
    /** How deep the "deep" history page is (capped by the deep chat's size). */
    depth: number;
    catchupRounds: number;
    /** Sends per chat size in the delivery benchmark (each also as a bare broadcast). */
    deliverySends: number;
  };
}

export const PRESETS: Record<string, Preset> = {
  quick: {
    name: "quick",
    data: {
      seed: 0.42,
      users: 12_000,
      direct_chats: 8_000,
      groups: 1_500,
      channel_members: 10_000,
      channel_admins: 200,
      hot_members: 1_000,
      deep_members: 40,
      hub_chats: 1_000,
      messages: 400_000,
      deep_messages: 150_000,
      channel_messages: 5_000,
      hot_messages: 10_000,
      reaction_rate: 0.05,
      deleted_rate: 0.005,
    },
    work: { sends: 2_000, fanoutSends: 400, reads: 1_000, depth: 100_000, catchupRounds: 10, deliverySends: 200 },
  },
  large: {
    name: "large",
    data: {
      seed: 0.42,
      users: 100_000,
      direct_chats: 150_000,
      groups: 20_000,
      channel_members: 10_000,
      channel_admins: 200,
      hot_members: 1_000,
      deep_members: 60,
      hub_chats: 1_000,
      messages: 5_000_000,
      deep_messages: 1_100_000,
      channel_messages: 20_000,
      hot_messages: 50_000,
      reaction_rate: 0.05,
      deleted_rate: 0.005,
    },
    work: { sends: 8_000, fanoutSends: 1_000, reads: 3_000, depth: 1_000_000, catchupRounds: 20, deliverySends: 500 },
  },
};

export function presetFromArgs(argv: string[]): Preset {
  const i = argv.indexOf("--preset");
  const inline = argv.find((a) => a.startsWith("--preset="));
  const name = inline ? inline.slice("--preset=".length) : i >= 0 ? argv[i + 1] : "quick";
  const preset = name ? PRESETS[name] : undefined;
  if (!preset) throw new Error(`unknown preset ${name}; known: ${Object.keys(PRESETS).join(", ")}`);
  return preset;
}
