// MEAL (v1): block-wise similarity to the selected teachers per mini-batch, plus discriminators that
// tell student blocks from teacher blocks. The native objective does the work; this file decides
// which teachers, which phase, and the discriminator's learning rate.
import { z } from 'zod';

import { configFlag } from '../config/flags.js';
import type { Settings } from '../native.js';
import type { MethodContext, MethodDefinition, MethodSession } from '../train/method.js';
import { objectiveSession } from './objective-session.js';
import type { TeacherSelection } from './teacher-selection.js';
import { selectTeachers } from './teacher-selection.js';

/** A MEAL block: a feature name of student and teachers, its aligned length and loss weights. */
export const MealBlockOptions = z.strictObject({
  name: z.string().min(1),
  /** Aligned length; unset: the student block's H*W (logits are compared as they are). */
  length: z.number().int().positive().optional(),
  /** gamma_j, weight of the similarity loss. */
  weight: z.number().min(0).default(1),
  /** eta_j, weight of the discriminator loss. */
  adversarialWeight: z.number().min(0).default(1),
  discriminator: z.boolean().default(true),
});

/** Discriminator widths: in / divisor per hidden layer, never below minWidth. */
export const DiscriminatorOptions = z.strictObject({
  /** Unset: [2, 4] for MEAL (d/2, d/4) and [8, 64] for MEAL V2 (d/8, d/64), as the official code. */
  divisors: z.array(z.number().int().min(1)).min(1).optional(),
  minWidth: z.number().int().min(1).default(2),
  /** The official MEAL code puts a ReLU on the output scores. */
  outputRelu: z.boolean().default(false),
});

/** The options MEAL and MEAL V2 share: the adversarial game and how it is updated. */
export const adversarialOptions = {
  adversarial: z.boolean().default(true),
  discriminator: DiscriminatorOptions.prefault({}),
  /** joint: one step over student and discriminators (official); grl: gradient reversal; alternating: D steps then a student step. */
  update: z.enum(['joint', 'grl', 'alternating']).default('joint'),
  /** Discriminator steps per student step, with update 'alternating'. */
  discriminatorSteps: z.number().int().min(1).default(1),
  /** Discriminator learning rate at the start; the schedule scales it like the student's. */
  discriminatorLr: z.number().positive().default(1e-3),
  /** The official code leaves teachers in train mode (their BatchNorm statistics drift); default eval. */
  teacherTrainMode: z.boolean().default(false),
  /** Gradient scale of the reversal layer, with update 'grl'. */
  grlScale: z.number().positive().default(1),
};

/** MEAL's options. */
export const MealOptions = z.strictObject({
  // A bare name stands for a block with default weights, so `--blocks layer3,logits` works.
  blocks: z
    .array(
      z.union([
        z
          .string()
          .min(1)
          .transform((name) => ({ name, weight: 1, adversarialWeight: 1, discriminator: true })),
        MealBlockOptions,
      ]),
    )
    .min(1)
    .prefault(['logits']),
  pooling: z.enum(['avg', 'max']).default('max'),
  similarity: z.enum(['ce', 'kl', 'l1', 'l2', 'l1_soft', 'l2_soft', 'cosine']).default('ce'),
  /** Temperature of the kl similarity. */
  temperature: z.number().positive().default(1),
  teacherSelection: z.enum(['random', 'average', 'round-robin']).default('random'),
  /** Weight of CE on the given labels (0: none, as the official code). */
  ceWeight: z.number().min(0).default(0),
  ...adversarialOptions,
});
/** Parsed MEAL options. */
export type MealOptions = z.output<typeof MealOptions>;

/** The adversarial options, as MEAL and MEAL V2 both parse them. */
export type AdversarialOptions = Pick<MealOptions, keyof typeof adversarialOptions>;

/** The flags of the adversarial options (MEAL and MEAL V2 alike). */
export const adversarialFlags = [
  configFlag('--update', 'update', 'string', 'joint (official), grl or alternating'),
  configFlag('--discriminator-lr', 'discriminatorLr', 'number', 'discriminator learning rate (default 1e-3)'),
  configFlag('--discriminator-steps', 'discriminatorSteps', 'int', 'discriminator steps per student step (alternating)'),
] as const;

/** How a MEAL-family run is stepped, beyond the native objective's settings. */
export interface MealStepping {
  selection: TeacherSelection;
  update: 'joint' | 'grl' | 'alternating';
  discriminatorSteps: number;
  discriminatorLr: number;
}

/** A MEAL-family session: the native 'meal' objective with `settings`, stepped by `stepping`'s policy. */
export async function mealSession(
  context: MethodContext,
  settings: Settings & { adversarial: boolean },
  stepping: MealStepping,
): Promise<MethodSession> {
  const phase = !settings.adversarial || stepping.update === 'joint' ? 'joint' : stepping.update === 'grl' ? 'grl' : 'student';
  // No teachers: the batches replay a soft-label cache (MEAL V2 only), and no teacher is loaded.
  return objectiveSession(
    context,
    'meal',
    { ...settings, inputShape: context.inputShape },
    {
      withTeachers: true,
      stepping: async (stepWith, lr, step, teachers) => {
        const args = {
          teachers: teachers === 0 ? [] : selectTeachers(stepping.selection, teachers, context.seed, step),
          // The schedule scales both rates alike, as one optimizer with two parameter groups would.
          discriminatorLr: stepping.discriminatorLr * (lr / context.baseLr),
        };
        if (phase === 'student') {
          for (let i = 0; i < stepping.discriminatorSteps; i++) await stepWith({ ...args, phase: 'discriminator' });
        }
        return stepWith({ ...args, phase });
      },
    },
  );
}

/** The native settings of the adversarial options, with the discriminator widths MEAL or MEAL V2 default to. */
export function adversarialSettings(options: AdversarialOptions, divisors: number[]): Settings & { adversarial: boolean } {
  return {
    adversarial: options.adversarial,
    discriminator: { ...options.discriminator, divisors: options.discriminator.divisors ?? divisors },
    teacherTrainMode: options.teacherTrainMode,
    grlScale: options.grlScale,
  };
}

/** MEAL (`distill --method meal`). */
export const meal = {
  name: 'meal',
  summary: 'MEAL: block-wise similarity to selected teachers, with discriminators (joint, grl or alternating)',
  command: 'distill',
  teachers: 'required',
  options: MealOptions,
  flags: [
    configFlag('--blocks', 'blocks', 'list', 'comma-separated blocks to match (e.g. layer3,logits)'),
    configFlag('--similarity', 'similarity', 'string', 'ce, kl, l1, l2, l1_soft, l2_soft or cosine'),
    configFlag('--pooling', 'pooling', 'string', 'block alignment pooling, avg or max'),
    configFlag('--teacher-selection', 'teacherSelection', 'string', 'random, average or round-robin'),
    configFlag('--meal-ce-weight', 'ceWeight', 'number', 'weight of CE on the labels (default 0)'),
    configFlag('--meal-temperature', 'temperature', 'number', 'temperature of the kl similarity'),
    ...adversarialFlags,
  ],
  create: (context, options) =>
    mealSession(
      context,
      {
        ...adversarialSettings(options, [2, 4]),
        blocks: options.blocks.map((b) => ({ ...b })),
        pooling: options.pooling,
        similarity: options.similarity,
        temperature: options.temperature,
        ceWeight: options.ceWeight,
      },
      {
        selection: options.teacherSelection,
        update: options.update,
        discriminatorSteps: options.discriminatorSteps,
        discriminatorLr: options.discriminatorLr,
      },
    ),
} as const satisfies MethodDefinition<'meal', typeof MealOptions>;
