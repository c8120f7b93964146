-- AlterEnum
ALTER TYPE "RuleKind" ADD VALUE 'calendar';
