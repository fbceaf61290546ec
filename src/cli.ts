process.env.DOTENV_CONFIG_QUIET ??= 'true';
import 'dotenv/config';
import { validateCommand } from './cli/flows-validate';
import { projectRoot } from './paths';

const USAGE = `usage: npm run cli -- <command>

  flows validate [dir]     check the flows (default flows/) and list every problem with its position
  flows test [dir]         run the YAML test conversations in <dir>/tests against the real flows
  nlu --catalog FILE       read {"text": …} lines on stdin, write {"intent","product","lang"} lines (no database)
  chat [--lang fr|ar|ary|en] [--as NAME]
                           chat with the bot in this terminal, on the real flows and database
  digest [--from DAY --to DAY] [--lang fr|ar|en] [--json]
                           print the satisfaction digest of a period (default: the last seven days)
  catalog publish [--dry-run]
                           make the WhatsApp catalog (WHATSAPP_CATALOG_ID) match flows/catalog.yml and its live stock`;

/** `npm run cli -- …`: the admin's tools. */
async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'flows' && command === 'validate') return validateCommand(projectRoot, rest[0]);
  if (group === 'flows' && command === 'test') return (await import('./cli/flows-test')).flowsTestCommand(projectRoot, rest[0]);
  if (group === 'nlu') return (await import('./cli/nlu')).nluCommand([command, ...rest].filter((a): a is string => a !== undefined));
  if (group === 'digest') return (await import('./cli/digest')).digestCommand([command, ...rest].filter((a): a is string => a !== undefined));
  if (group === 'catalog' && command === 'publish') return (await import('./cli/catalog-publish')).catalogPublishCommand(rest);
  if (group === 'chat') return (await import('./cli/chat')).chatCommand(projectRoot, [command, ...rest].filter((a): a is string => a !== undefined));
  console.error(group ? `unknown command "${argv.join(' ')}"\n\n${USAGE}` : USAGE);
  return group ? 2 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
