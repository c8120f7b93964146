-- AlterEnum
ALTER TYPE "RuleKind" ADD VALUE 'composite';
