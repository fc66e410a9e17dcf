// Everyday memories as a person's assistant would import or bulk-add them:
// birthdays, bills, appointments, errands and plans, written in varied,
// ordinary sentences (not one per dialogue turn, no speaker names), seeded.
// Each carries the kind it was written as, so a test can tell whether themes
// kept kinds apart. Hand-written templates: they cannot show the spread of
// real users' wording, only that ordinary shared words (a month, "want", "new")
// do not glue unrelated memories into one theme.

const PEOPLE = ['Anna', 'Ben', 'Clara', 'Dev', 'Elif', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kemi', 'Luca'];
const MONTHS = ['January', 'March', 'April', 'June', 'August', 'October', 'November'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const UTILITIES = ['electricity', 'water', 'internet', 'phone', 'gym', 'gas', 'streaming', 'insurance'];
const DOCTORS = ['dentist', 'doctor', 'eye doctor', 'physiotherapist', 'dermatologist', 'vet'];
const ITEMS = [['parcel', 'post office'], ['dry cleaning', 'cleaners'], ['prescription', 'pharmacy'], ['new glasses', 'optician'], ['library books', 'library'], ['bike', 'repair shop']];
const CUISINES = ['Thai', 'Italian', 'Ethiopian', 'Korean', 'Lebanese', 'Mexican'];
const CITIES = ['Lisbon', 'Kyoto', 'Oslo', 'Vienna', 'Porto', 'Seville'];

export type EverydayKind = 'birthday' | 'bill' | 'appointment' | 'errand' | 'plan';

const TEMPLATES: Record<EverydayKind, ((pick: <T>(xs: readonly T[]) => T, n: () => number) => string)[]> = {
  birthday: [
    (p) => `${p(PEOPLE)} wants new running shoes for their birthday.`,
    (p) => `Remember that ${p(PEOPLE)} is trying to eat less sugar, so no cake at the birthday.`,
    (p) => `${p(PEOPLE)}'s birthday falls on a ${p(DAYS)} this year.`,
    (p) => `${p(PEOPLE)}'s birthday is on ${p(MONTHS)} ${1 + (p([...Array(27).keys()]) as number)}.`,
    (p) => `Buy a birthday present for ${p(PEOPLE)} before ${p(MONTHS)}.`,
    (p, n) => `${p(PEOPLE)} turns ${20 + n()} this year and wants a small birthday dinner.`,
    (p) => `Send ${p(PEOPLE)} a birthday card, the party is on ${p(DAYS)}.`,
  ],
  bill: [
    (p, n) => `The gym bill is ${40 + (n() % 30)} euros a month.`,
    (p) => `Trying to cut the ${p(UTILITIES)} bill, maybe switch to a new provider.`,
    (p) => `Remember the ${p(UTILITIES)} bill is due next week.`,
    (p, n) => `The ${p(UTILITIES)} bill is ${20 + n()} euros a month.`,
    (p, n) => `Pay the ${p(UTILITIES)} bill by the ${1 + (n() % 28)}th of each month.`,
    (p) => `The ${p(UTILITIES)} bill went up again this ${p(MONTHS)}.`,
    (p) => `Set up automatic payment for the ${p(UTILITIES)} bill.`,
  ],
  appointment: [
    (p) => `The new ${p(DOCTORS)} wants to see me every six months.`,
    (p) => `Trying to get an earlier ${p(DOCTORS)} slot, the next one is in ${p(MONTHS)}.`,
    (p) => `Remember to fast before the blood test on ${p(DAYS)}.`,
    (p) => `${cap(p(DOCTORS))} appointment on ${p(DAYS)} at ${8 + (p([...Array(9).keys()]) as number)} o'clock.`,
    (p) => `Reschedule the ${p(DOCTORS)} appointment to next ${p(DAYS)}.`,
    (p) => `The ${p(DOCTORS)} wants a follow-up appointment in ${p(MONTHS)}.`,
    (p) => `Bring the insurance card to the ${p(DOCTORS)} appointment.`,
  ],
  errand: [
    (p) => `Want to get the car washed this week.`,
    (p) => { const [item, shop] = p(ITEMS); return `Remember to bring the ${item} back to the ${shop}.`; },
    (p) => `Trying to find a new charger for the laptop.`,
    (p) => { const [item, shop] = p(ITEMS); return `Pick up the ${item} from the ${shop} on ${p(DAYS)}.`; },
    (p) => { const [item, shop] = p(ITEMS); return `Drop the ${item} off at the ${shop} along the way home.`; },
    (p) => `Buy milk, bread and eggs on ${p(DAYS)}.`,
    (p) => { const [item, shop] = p(ITEMS); return `The ${shop} closes early on ${p(DAYS)}, get the ${item} before noon.`; },
  ],
  plan: [
    (p) => `${p(PEOPLE)} wants to try the new climbing gym on ${p(DAYS)}.`,
    (p) => `Next month we want to try a cooking class.`,
    (p) => `Remember to book the ${p(CITIES)} hotel this week.`,
    (p) => `We want to try the new ${p(CUISINES)} restaurant downtown.`,
    (p) => `Plan a weekend trip to ${p(CITIES)} in ${p(MONTHS)}.`,
    (p) => `Book a table at the ${p(CUISINES)} restaurant for ${p(DAYS)} night.`,
    (p) => `Look at flights to ${p(CITIES)} for the ${p(MONTHS)} holiday.`,
  ],
};

function cap(s: string): string {
  return s[0]!.toUpperCase() + s.slice(1);
}

/** `count` memories, kinds in turn, from a seeded generator (mulberry32). */
export function everydayMemories(count: number, seed = 7): { text: string; kind: EverydayKind }[] {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const n = () => Math.floor(random() * 60);
  const kinds = Object.keys(TEMPLATES) as EverydayKind[];
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    return { text: pick(TEMPLATES[kind])(pick, n), kind };
  });
}
